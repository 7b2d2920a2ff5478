import { z } from 'zod';

/** Shared argument schemas; the descriptions are what the model reads. */
export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export const connectionArg = z.string().min(1).max(200).describe('The connection name, exactly as list_connections shows it (e.g. "github").');

export const queryArg = z
  .record(z.union([z.string(), z.number(), z.boolean()]))
  .optional()
  .describe('Query-string parameters, e.g. {"per_page": 50}.');

export const bodyArg = z
  .unknown()
  .optional()
  .describe('Request body: a JSON value (sent as application/json) or a string (sent as it is). Omit for GET.');

/**
 * A path relative to the API base. Dot segments and backslashes are refused
 * here because fetch would resolve them on the client, turning
 * `/v1/proxy/a/../b` into a different Latchkey URL than the one asked for.
 */
export function checkPath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'path must start with "/" (it is relative to the API base, e.g. "/user/repos")';
  if (path.includes('\\') || path.includes('#')) return 'path must not contain "\\" or "#"';
  const pathOnly = path.split('?', 1)[0] ?? '';
  if (pathOnly.split('/').some((s) => ['.', '..'].includes(s.replace(/%2e/gi, '.')))) return 'path must not contain "." or ".." segments';
  return undefined;
}
