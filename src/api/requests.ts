/**
 * Request schemas of the routes that used to declare theirs inline: the
 * connect flows, agents, leases, invoke, audit and webhooks. With schemas.ts
 * these are the whole request side of the contract (the SDK's types and the
 * OpenAPI document come from them).
 */
import { CAPABILITY_NAME_PATTERN, CONNECTION_NAME_PATTERN } from './names.js';
import { pagedQuery } from './paging.js';
import { lineMap, lineString, nameString, pathString } from './schemas.js';

const scopes = { type: 'array', items: { ...lineString, maxLength: 512 }, maxItems: 200 } as const;
const shortLine = { ...lineString, maxLength: 200 } as const;

export const providerParams = {
  type: 'object',
  required: ['provider'],
  properties: { provider: shortLine },
} as const;

/** POST /v1/connect/{provider}: every field optional (an empty body is fine). */
export const connectBody = {
  type: 'object',
  additionalProperties: false,
  properties: { name: nameString, subject: lineString, environment: nameString, scopes, returnTo: lineString },
} as const;

export const deviceBody = {
  type: 'object',
  additionalProperties: false,
  properties: { name: nameString, subject: lineString, environment: nameString, scopes },
} as const;

export const clientCredentialsBody = {
  type: 'object',
  additionalProperties: false,
  properties: { name: nameString, environment: nameString, scopes },
} as const;

export const createAgentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: nameString, environment: nameString, policy: { type: 'object' } },
} as const;

export const updateAgentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['policy'],
  properties: { policy: { type: 'object' } },
} as const;

export const agentParams = { type: 'object', required: ['id'], properties: { id: shortLine } } as const;
export const deliveryParams = { type: 'object', required: ['id', 'deliveryId'], properties: { id: shortLine, deliveryId: shortLine } } as const;
export const agentKeyParams = { type: 'object', required: ['id', 'keyId'], properties: { id: shortLine, keyId: shortLine } } as const;

export const invokeBody = {
  type: 'object',
  additionalProperties: false,
  properties: { method: { ...lineString, maxLength: 16 }, path: pathString, query: lineMap, headers: lineMap, body: {} },
} as const;

/** Names by the shared rules, so a "..", "." or "a/b" segment is a 400 before any lookup. */
export const invokeParams = {
  type: 'object',
  required: ['connection', 'capability'],
  properties: {
    connection: { type: 'string', pattern: CONNECTION_NAME_PATTERN },
    capability: { type: 'string', pattern: CAPABILITY_NAME_PATTERN },
  },
} as const;

export const leaseBody = {
  type: 'object',
  additionalProperties: false,
  required: ['connection'],
  properties: { connection: nameString, ttl: { anyOf: [{ type: 'integer', minimum: 1 }, { ...lineString, maxLength: 32 }] } },
} as const;

export const leaseEndQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { rotate: { enum: ['true', 'false', '1', '0'] } },
} as const;

export const auditListQuery = pagedQuery({ agent: shortLine, connection: shortLine, action: shortLine, since: shortLine });

export const auditPruneBody = {
  type: 'object',
  additionalProperties: false,
  required: ['before'],
  properties: { before: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** POST /v1/webhooks; the event names are the events module's (it sits above this shared one). */
export function webhookCreateBody<const E extends readonly string[]>(eventTypes: E) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['url', 'events'],
    properties: {
      url: { ...lineString, maxLength: 2048 },
      events: { type: 'array', minItems: 1, maxItems: 20, items: { type: 'string', enum: [...eventTypes, '*'] } },
      secret: { type: 'string', minLength: 16, maxLength: 256 },
    },
  } as const;
}
