import { pagedQuery, pageOf } from './paging.js';
import { nullableString } from './responses.js';
import { lineString, nameString } from './schemas.js';

const scopes = { type: 'array', items: { ...lineString, maxLength: 512 }, maxItems: 200 } as const;
const expiresIn = { anyOf: [{ type: 'integer', minimum: 1 }, { ...lineString, maxLength: 32 }] } as const;

/**
 * POST /v1/connect-links: `{provider, subject, name?, environment?, scopes?, expiresIn?}` for a new
 * connection, or `{connection, expiresIn?}` to reconnect one in place (which of the two is checked
 * by the server, with a message that says so).
 */
export const createConnectLinkBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    provider: { ...lineString, maxLength: 200 },
    subject: lineString,
    name: nameString,
    environment: nameString,
    scopes,
    connection: { ...lineString, maxLength: 200 },
    expiresIn,
  },
} as const;

export const createdConnectLink = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'expiresAt'],
  properties: { id: { type: 'string' }, url: { type: 'string' }, expiresAt: { type: 'string' } },
} as const;

export const connectLinkSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'provider', 'connection', 'name', 'subject', 'environment', 'scopes', 'requestedBy', 'status', 'createdAt', 'expiresAt', 'usedAt'],
  properties: {
    id: { type: 'string' },
    provider: { type: 'string' },
    connection: nullableString,
    name: nullableString,
    subject: nullableString,
    environment: nullableString,
    scopes: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }] },
    requestedBy: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'id', 'name'],
      properties: { type: { type: 'string' }, id: nullableString, name: nullableString },
    },
    status: { type: 'string', enum: ['open', 'used', 'expired'] },
    createdAt: { type: 'string' },
    expiresAt: { type: 'string' },
    usedAt: nullableString,
  },
} as const;

export const connectLinkList = pageOf(connectLinkSchema);
export const connectLinkListQuery = pagedQuery({});

export const connectLinkParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { ...lineString, maxLength: 200 } },
} as const;

/** The token in `/connect/{token}`: 256 bits, base64url. */
export const connectTokenParams = {
  type: 'object',
  required: ['token'],
  properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]{16,128}$' } },
} as const;
