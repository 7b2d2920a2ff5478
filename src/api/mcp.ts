import { nullableString } from './responses.js';
import { nameString } from './schemas.js';

const stringList = { type: 'array', items: { type: 'string' } } as const;

/** GET /.well-known/oauth-protected-resource[/mcp] (RFC 9728). */
export const protectedResourceMetadata = {
  type: 'object',
  required: ['resource', 'authorization_servers'],
  properties: {
    resource: { type: 'string' },
    authorization_servers: stringList,
    scopes_supported: stringList,
    bearer_methods_supported: stringList,
    resource_name: { type: 'string' },
    resource_documentation: { type: 'string' },
  },
} as const;

/** GET /.well-known/oauth-authorization-server[/mcp-oauth] (RFC 8414). */
export const authorizationServerMetadata = {
  type: 'object',
  required: ['issuer', 'authorization_endpoint', 'token_endpoint', 'response_types_supported'],
  properties: {
    issuer: { type: 'string' },
    authorization_endpoint: { type: 'string' },
    token_endpoint: { type: 'string' },
    registration_endpoint: { type: 'string' },
    revocation_endpoint: { type: 'string' },
    jwks_uri: { type: 'string' },
    scopes_supported: stringList,
    response_types_supported: stringList,
    response_modes_supported: stringList,
    grant_types_supported: stringList,
    code_challenge_methods_supported: stringList,
    token_endpoint_auth_methods_supported: stringList,
    revocation_endpoint_auth_methods_supported: stringList,
    authorization_response_iss_parameter_supported: { type: 'boolean' },
    client_id_metadata_document_supported: { type: 'boolean' },
  },
} as const;

/** `:uid` of an MCP authorization waiting for an operator (oidc-provider's interaction uid). */
export const mcpConsentParams = {
  type: 'object',
  required: ['uid'],
  properties: { uid: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' } },
} as const;

/** GET /v1/mcp-consent/{uid}: what the operator is asked to approve. */
export const mcpConsentView = {
  type: 'object',
  additionalProperties: false,
  required: ['uid', 'client', 'redirectUri', 'scopes', 'resource', 'expiresAt'],
  properties: {
    uid: { type: 'string' },
    client: {
      type: 'object',
      additionalProperties: false,
      required: ['clientId', 'name', 'uri', 'registration', 'metadataUrl'],
      properties: {
        clientId: { type: 'string' },
        name: nullableString,
        uri: nullableString,
        /** `metadata_document` (the client id is the URL of its metadata) or `dynamic` (RFC 7591 registration). */
        registration: { type: 'string', enum: ['metadata_document', 'dynamic'] },
        metadataUrl: nullableString,
      },
    },
    redirectUri: { type: 'string' },
    scopes: stringList,
    resource: { type: 'string' },
    expiresAt: { type: 'string' },
  },
} as const;

/** POST /v1/mcp-consent/{uid}: act as an existing agent, as a new default-deny agent, or deny. */
export const mcpConsentDecision = {
  type: 'object',
  additionalProperties: false,
  properties: {
    agent: nameString,
    newAgent: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: nameString, environment: nameString } },
    deny: { type: 'boolean', const: true },
  },
  oneOf: [{ required: ['agent'] }, { required: ['newAgent'] }, { required: ['deny'] }],
} as const;

/** The answer: where the browser that started the authorization goes next (back into the authorization server). */
export const mcpConsentResult = {
  type: 'object',
  additionalProperties: false,
  required: ['redirectTo', 'decision', 'agent'],
  properties: {
    redirectTo: { type: 'string' },
    decision: { type: 'string', enum: ['approved', 'denied'] },
    agent: {
      anyOf: [{ type: 'object', additionalProperties: false, required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } }, { type: 'null' }],
    },
  },
} as const;

export interface McpConsentDecision {
  agent?: string;
  newAgent?: { name: string; environment?: string };
  deny?: true;
}


/** `/v1/agents/{id}/mcp-clients/{grantId}`: the agent (name or id) and the `id` of one entry of its list. */
export const mcpClientGrantParams = {
  type: 'object',
  required: ['id', 'grantId'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 }, grantId: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
} as const;

/** GET /v1/agents/{id}/mcp-clients: an MCP client an operator let act as this agent. No token, code or secret. */
export const mcpClientGrantView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'clientId', 'clientName', 'registration', 'redirectUris', 'scopes', 'consentedAt', 'expiresAt', 'lastTokenIssuedAt'],
  properties: {
    /** The grant's reference (pass it to DELETE). */
    id: { type: 'string' },
    clientId: { type: 'string' },
    clientName: nullableString,
    registration: { type: 'string', enum: ['metadata_document', 'dynamic'] },
    /** From the client's registration, or its metadata document while Latchkey has it cached (empty otherwise). */
    redirectUris: stringList,
    scopes: stringList,
    consentedAt: nullableString,
    /** When the grant ends on its own (its refresh tokens can live no longer). */
    expiresAt: nullableString,
    /** When the client last got a token under this grant (code exchange or refresh), if that token is still stored. */
    lastTokenIssuedAt: nullableString,
  },
} as const;

export const mcpClientGrantList = { type: 'array', items: mcpClientGrantView } as const;
