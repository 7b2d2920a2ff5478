/**
 * Response schemas of the REST contract: one per answer shape, attached to the
 * routes (`schema.response`) and published in the OpenAPI document. The server
 * still serializes with JSON.stringify (server/app.ts says why), so a schema
 * never drops a field; the OpenAPI test checks real answers against them.
 * Views are exact (`additionalProperties: false`): a field added to an answer
 * must be added here, which is what keeps the document and the SDK's types true.
 */
import { capabilitySchema } from './schemas.js';

const string = { type: 'string' } as const;
/** A string or null: shared by every response schema (api/*.ts) so the form is written once. */
export const nullableString = { type: ['string', 'null'] } as const;
const strings = { type: 'array', items: string } as const;
const stringMap = { type: 'object', additionalProperties: string } as const;
/** A JSON object whose keys the API does not fix (metadata, a policy, provider quirks, an audit detail). */
const anyObject = { type: 'object' } as const;

/** Every error: a stable `error` code and a message; some codes add fields (e.g. `reconnectUrl`). */
export const errorResponse = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: string, message: string },
} as const;

export const deletedResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['deleted'],
  properties: { deleted: { type: 'boolean' } },
} as const;

export const healthResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { type: 'string', enum: ['ok', 'ready'] }, database: { type: 'string', enum: ['sqlite', 'postgres'] } },
} as const;

const capabilityView = {
  ...capabilitySchema,
  required: ['name', 'methods', 'pathPrefixes'],
} as const;

export const presetView = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'displayName', 'issuer', 'authorizationEndpoint', 'tokenEndpoint', 'revocationEndpoint', 'deviceAuthorizationEndpoint', 'scopes', 'apiBaseUrl', 'allowedHosts', 'capabilities', 'quirks'],
  properties: {
    name: string,
    displayName: string,
    issuer: nullableString,
    authorizationEndpoint: string,
    tokenEndpoint: string,
    revocationEndpoint: nullableString,
    deviceAuthorizationEndpoint: nullableString,
    scopes: strings,
    apiBaseUrl: string,
    allowedHosts: strings,
    capabilities: { type: 'array', items: capabilityView },
    quirks: anyObject,
    docsUrl: string,
  },
} as const;

export const providerView = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id', 'name', 'displayName', 'preset', 'issuer', 'authorizationEndpoint', 'tokenEndpoint', 'revocationEndpoint',
    'deviceAuthorizationEndpoint', 'userinfoEndpoint', 'introspectionEndpoint', 'clientId', 'hasClientSecret',
    'tokenEndpointAuthMethod', 'scopes', 'pkce', 'authorizeParams', 'apiBaseUrl', 'allowedHosts', 'capabilities', 'quirks',
    'issParameterSupported', 'redirectUri', 'status', 'statusReason', 'statusSince', 'nextCheckAt', 'createdAt', 'updatedAt',
  ],
  properties: {
    id: string,
    name: string,
    displayName: string,
    preset: nullableString,
    issuer: nullableString,
    authorizationEndpoint: nullableString,
    tokenEndpoint: nullableString,
    revocationEndpoint: nullableString,
    deviceAuthorizationEndpoint: nullableString,
    userinfoEndpoint: nullableString,
    introspectionEndpoint: nullableString,
    clientId: nullableString,
    hasClientSecret: { type: 'boolean' },
    tokenEndpointAuthMethod: { type: 'string', enum: ['client_secret_basic', 'client_secret_post', 'none'] },
    scopes: strings,
    pkce: { type: 'boolean' },
    authorizeParams: stringMap,
    apiBaseUrl: nullableString,
    allowedHosts: strings,
    capabilities: { type: 'array', items: capabilityView },
    quirks: anyObject,
    /** Whether the provider sends RFC 9207 `iss` with its callbacks. */
    issParameterSupported: { type: 'boolean' },
    /** The redirect URI to register with the provider. */
    redirectUri: string,
    /** `misconfigured` while the token endpoint refuses Latchkey's client. */
    status: { type: 'string', enum: ['ok', 'misconfigured'] },
    statusReason: nullableString,
    statusSince: nullableString,
    nextCheckAt: nullableString,
    createdAt: string,
    updatedAt: string,
  },
} as const;

export const providerClientView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'default', 'clientId', 'hasClientSecret', 'tokenEndpointAuthMethod', 'connections', 'createdAt'],
  properties: {
    /** `pcl_…`; null for the provider's default client. */
    id: nullableString,
    default: { type: 'boolean' },
    clientId: nullableString,
    hasClientSecret: { type: 'boolean' },
    tokenEndpointAuthMethod: string,
    connections: { type: 'integer' },
    createdAt: string,
  },
} as const;

/** DELETE /v1/providers/{name} and DELETE /v1/mcp-servers/{name} (a server's connections belong to its provider). */
export const providerDeleted = {
  type: 'object',
  additionalProperties: false,
  required: ['deleted', 'removedConnections', 'revokedAtProvider'],
  properties: {
    deleted: { type: 'boolean' },
    removedConnections: { type: 'integer' },
    /** Connections whose grant the provider confirmed revoked; the others left a revocation job (GET /v1/revocations). */
    revokedAtProvider: { type: 'integer' },
  },
} as const;

export const connectionView = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id', 'name', 'provider', 'subject', 'environment', 'grantType', 'status', 'scopes', 'expiresAt', 'refreshTokenExpiresAt',
    'lastRefreshedAt', 'lastUsedAt', 'lastError', 'createdAt', 'updatedAt', 'metadata', 'apiBaseUrl', 'clientId',
  ],
  properties: {
    id: string,
    name: string,
    provider: string,
    subject: nullableString,
    environment: string,
    grantType: string,
    status: { type: 'string', enum: ['pending', 'active', 'needs_reauth', 'revoked', 'error'] },
    scopes: strings,
    expiresAt: nullableString,
    refreshTokenExpiresAt: nullableString,
    lastRefreshedAt: nullableString,
    lastUsedAt: nullableString,
    lastError: nullableString,
    createdAt: string,
    updatedAt: string,
    metadata: anyObject,
    /** Where this connection's API calls go when not the provider's apiBaseUrl (Salesforce's instance_url). */
    apiBaseUrl: nullableString,
    /** The OAuth client id the connection refreshes and revokes with. */
    clientId: nullableString,
  },
} as const;

export const connectionTokenView = {
  type: 'object',
  additionalProperties: false,
  required: ['accessToken', 'tokenType', 'scopes', 'expiresAt'],
  properties: { accessToken: string, tokenType: string, scopes: strings, expiresAt: nullableString },
} as const;

export const revocationView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'connectionId', 'connection', 'provider', 'tokenTypeHint', 'status', 'attempts', 'nextAttemptAt', 'lastError', 'createdAt', 'updatedAt', 'finishedAt'],
  properties: {
    id: string,
    connectionId: string,
    connection: string,
    provider: nullableString,
    tokenTypeHint: string,
    status: { type: 'string', enum: ['pending', 'revoked', 'failed'] },
    attempts: { type: 'integer' },
    nextAttemptAt: nullableString,
    lastError: nullableString,
    createdAt: string,
    updatedAt: string,
    finishedAt: nullableString,
  },
} as const;

export const connectionDeleted = {
  type: 'object',
  additionalProperties: false,
  required: ['deleted', 'revokedAtProvider'],
  properties: {
    deleted: { type: 'boolean' },
    revokedAtProvider: { type: 'boolean' },
    /** Set while the provider has not confirmed: a job keeps trying. */
    revocation: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'status', 'attempts', 'nextAttemptAt', 'lastError'],
      properties: {
        id: string,
        status: revocationView.properties.status,
        attempts: { type: 'integer' },
        nextAttemptAt: nullableString,
        lastError: nullableString,
      },
    },
  },
} as const;

export const authorizationStartView = {
  type: 'object',
  additionalProperties: false,
  required: ['connectionId', 'authorizationUrl', 'expiresAt'],
  properties: { connectionId: string, authorizationUrl: string, expiresAt: string },
} as const;

export const deviceStartView = {
  type: 'object',
  additionalProperties: false,
  required: ['connectionId', 'userCode', 'verificationUri', 'verificationUriComplete', 'expiresAt', 'interval'],
  properties: {
    connectionId: string,
    userCode: string,
    verificationUri: string,
    verificationUriComplete: nullableString,
    expiresAt: string,
    interval: { type: 'integer' },
  },
} as const;

export const keyView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'status', 'createdAt', 'sealsReserved'],
  properties: { id: string, status: string, createdAt: string, sealsReserved: { type: 'integer' } },
} as const;

export const keyRotation = {
  type: 'object',
  additionalProperties: false,
  required: ['newKeyId', 'resealed', 'retiredKeyIds'],
  properties: { newKeyId: string, resealed: { type: 'integer' }, retiredKeyIds: strings },
} as const;

export const webhookView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'events', 'createdAt'],
  properties: { id: string, url: string, events: strings, createdAt: string },
} as const;

export const webhookCreated = {
  ...webhookView,
  required: [...webhookView.required, 'secret'],
  properties: {
    ...webhookView.properties,
    /** Shown here only: verify `Latchkey-Signature` with it. */
    secret: string,
  },
} as const;

export const webhookDeliveryView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'eventId', 'status', 'attempts', 'nextAttemptAt', 'lastStatus', 'lastError', 'createdAt', 'deliveredAt'],
  properties: {
    id: string,
    eventId: string,
    status: { type: 'string', enum: ['pending', 'delivered'] },
    attempts: { type: 'integer' },
    nextAttemptAt: nullableString,
    lastStatus: { type: ['integer', 'null'] },
    lastError: nullableString,
    createdAt: string,
    deliveredAt: nullableString,
  },
} as const;

export const agentView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'environment', 'policy', 'createdAt', 'updatedAt'],
  properties: { id: string, name: string, environment: string, policy: anyObject, createdAt: string, updatedAt: string },
} as const;

const agentKeyView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'createdAt'],
  properties: { id: string, createdAt: string },
} as const;

export const agentDetail = {
  ...agentView,
  required: [...agentView.required, 'keys'],
  properties: { ...agentView.properties, keys: { type: 'array', items: agentKeyView } },
} as const;

export const agentCreated = {
  ...agentView,
  required: [...agentView.required, 'keyId', 'apiKey'],
  properties: {
    ...agentView.properties,
    keyId: string,
    /** Shown here only; only its hash is stored. */
    apiKey: string,
  },
} as const;

export const agentKeyCreated = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'agentId', 'apiKey', 'createdAt'],
  properties: { id: string, agentId: string, apiKey: string, createdAt: string },
} as const;

export const leaseView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'agentId', 'agent', 'connection', 'scopes', 'createdAt', 'expiresAt', 'tokenExpiresAt'],
  properties: {
    id: string,
    agentId: string,
    agent: nullableString,
    connection: nullableString,
    scopes: strings,
    createdAt: string,
    /** When the lease ends … */
    expiresAt: string,
    /** … next to when the leased token itself expires. */
    tokenExpiresAt: nullableString,
  },
} as const;

export const leaseGranted = {
  type: 'object',
  additionalProperties: false,
  required: ['leaseId', 'accessToken', 'tokenType', 'scopes', 'expiresAt', 'tokenExpiresAt'],
  properties: { leaseId: string, accessToken: string, tokenType: string, scopes: strings, expiresAt: string, tokenExpiresAt: nullableString },
} as const;

export const leaseEnded = {
  type: 'object',
  additionalProperties: false,
  required: ['ended', 'revokedAtProvider', 'refreshed', 'refreshError'],
  properties: {
    /** False when the lease had already ended. */
    ended: { type: 'boolean' },
    revokedAtProvider: { type: 'boolean' },
    /** With rotate: whether the connection was refreshed (null without rotate). */
    refreshed: { type: ['boolean', 'null'] },
    refreshError: nullableString,
  },
} as const;

export const meView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'environment', 'keyId', 'policy', 'connections'],
  properties: {
    id: string,
    name: string,
    environment: string,
    keyId: string,
    policy: anyObject,
    /** The connections the policy lets this agent use, each with the capabilities it is granted there. */
    connections: {
      type: 'array',
      items: {
        ...connectionView,
        required: [...connectionView.required, 'capabilities'],
        properties: { ...connectionView.properties, capabilities: { type: 'array', items: capabilityView } },
      },
    },
  },
} as const;

export const auditEventView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'at', 'actor', 'action', 'connection', 'outcome', 'status', 'detail'],
  properties: {
    id: string,
    at: string,
    actor: {
      type: 'object',
      required: ['type'],
      properties: { type: string, id: nullableString, name: nullableString },
    },
    action: string,
    connection: nullableString,
    outcome: string,
    status: { type: ['integer', 'null'] },
    detail: anyObject,
  },
} as const;

export const auditPruned = {
  type: 'object',
  additionalProperties: false,
  required: ['before', 'events', 'chains'],
  properties: { before: string, events: { type: 'integer' }, chains: { type: 'integer' } },
} as const;

export const auditVerified = {
  type: 'object',
  additionalProperties: false,
  required: ['ok', 'events'],
  properties: {
    ok: { type: 'boolean' },
    events: { type: 'integer' },
    unkeyed: { type: 'integer' },
    checkpoints: { type: 'integer' },
    /** The first broken link, when `ok` is false. */
    broken: {
      type: 'object',
      required: ['chainId', 'seq', 'id', 'reason'],
      properties: { chainId: string, seq: { type: 'integer' }, id: nullableString, block: { type: 'integer' }, reason: string },
    },
  },
} as const;

/** An upstream's answer relayed by invoke (redacted): any status, any body. */
export const upstreamAnswer = { description: "the upstream API's answer, relayed with its status (tokens redacted)" } as const;
