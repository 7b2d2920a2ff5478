import { z } from 'zod';
import { FORWARDED_METHODS, CAPABILITY_NAME_PATTERN, CAPABILITY_NAME_RULE, CONNECTION_NAME_PATTERN, CONNECTION_NAME_RULE } from '../../api/index.js';
import { proxyPathProblem } from '../../sdk/index.js';

/** Shared argument schemas; the descriptions are what the model reads. */
export const METHODS = FORWARDED_METHODS;

export const connectionArg = z
  .string()
  .regex(new RegExp(CONNECTION_NAME_PATTERN), CONNECTION_NAME_RULE)
  .describe('The connection name, exactly as list_connections shows it (e.g. "github").');

export const capabilityArg = z
  .string()
  .regex(new RegExp(CAPABILITY_NAME_PATTERN), CAPABILITY_NAME_RULE)
  .describe('The capability name, e.g. "repos".');

export const queryArg = z
  .record(z.union([z.string(), z.number(), z.boolean()]))
  .optional()
  .describe('Query-string parameters, e.g. {"per_page": 50}.');

export const bodyArg = z
  .unknown()
  .optional()
  .describe('Request body: a JSON value (sent as application/json) or a string (sent as it is). Omit for GET.');

/** A path relative to the API base, refused (with the SDK's rule) where fetch would resolve it into another URL. */
export function checkPath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'path must start with "/" (it is relative to the API base, e.g. "/user/repos")';
  return proxyPathProblem(path);
}
