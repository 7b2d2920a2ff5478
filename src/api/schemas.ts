/**
 * JSON schemas of the REST contract (docs/api.md / shared spec), used by the
 * server for validation. Unknown fields are rejected so typos fail loudly.
 */
import { pagedQuery } from './paging.js';
import { LINE_MAX, NAME_MAX, PATH_MAX, SINGLE_LINE_PATTERN, TEXT_MAX, TEXT_PATTERN } from './text.js';

/** A name (connection, provider, agent, environment, capability): one line, short. */
export const nameString = { type: 'string', minLength: 1, maxLength: NAME_MAX, pattern: SINGLE_LINE_PATTERN } as const;
/** Any other single-line value: URLs, endpoints, ids, scopes, times. */
export const lineString = { type: 'string', minLength: 1, maxLength: LINE_MAX, pattern: SINGLE_LINE_PATTERN } as const;
/** A path an agent or operator gives (invoke's `path`, a capability's path prefix). */
export const pathString = { type: 'string', minLength: 1, maxLength: PATH_MAX, pattern: SINGLE_LINE_PATTERN } as const;
/** Free text that may span lines (a description). */
export const textString = { type: 'string', maxLength: TEXT_MAX, pattern: TEXT_PATTERN } as const;
/** String-to-string maps (header values, query parameters, authorize parameters). */
export const lineMap = {
  type: 'object',
  propertyNames: { maxLength: 256, pattern: SINGLE_LINE_PATTERN },
  additionalProperties: { type: 'string', maxLength: 8192, pattern: SINGLE_LINE_PATTERN },
  maxProperties: 100,
} as const;

const str = lineString;
const strArray = { type: 'array', items: str, maxItems: 200 } as const;
const stringMap = lineMap;
const duration = { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^\\s*\\d+\\s*[smhd]?$' }] } as const;

export const capabilitySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'methods', 'pathPrefixes'],
  properties: {
    name: nameString,
    description: { ...textString, maxLength: 1000 },
    methods: { type: 'array', items: str, minItems: 1, maxItems: 10 },
    pathPrefixes: { type: 'array', items: pathString, minItems: 1, maxItems: 50 },
    hosts: strArray,
  },
} as const;

const providerProperties = {
  name: nameString,
  displayName: str,
  preset: str,
  issuer: str,
  authorizationEndpoint: str,
  tokenEndpoint: str,
  revocationEndpoint: str,
  deviceAuthorizationEndpoint: str,
  userinfoEndpoint: str,
  introspectionEndpoint: str,
  clientId: str,
  clientSecret: { anyOf: [str, { type: 'null' }] },
  tokenEndpointAuthMethod: { enum: ['client_secret_basic', 'client_secret_post', 'none'] },
  scopes: strArray,
  pkce: { type: 'boolean' },
  authorizeParams: stringMap,
  apiBaseUrl: str,
  allowedHosts: strArray,
  capabilities: { type: 'array', items: capabilitySchema, maxItems: 100 },
  quirks: { type: 'object', maxProperties: 50 },
} as const;

export const createProviderBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: providerProperties,
} as const;

export const updateProviderBody = {
  type: 'object',
  additionalProperties: false,
  properties: providerProperties,
} as const;

export const importConnectionBody = {
  type: 'object',
  additionalProperties: false,
  required: ['provider'],
  properties: {
    name: nameString,
    provider: nameString,
    subject: str,
    environment: nameString,
    accessToken: { type: 'string', minLength: 1, maxLength: 65536 },
    refreshToken: { type: 'string', minLength: 1, maxLength: 65536 },
    idToken: { type: 'string', minLength: 1, maxLength: 65536 },
    expiresAt: str,
    scopes: strArray,
    tokenType: str,
    metadata: { type: 'object', maxProperties: 50 },
    apiBaseUrl: str,
    clientId: str,
    clientSecret: str,
  },
} as const;

/** PATCH /v1/providers/{name}/clients/{id}: an operator changes one of the provider's other clients. */
export const updateProviderClientBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    clientSecret: providerProperties.clientSecret,
    tokenEndpointAuthMethod: providerProperties.tokenEndpointAuthMethod,
  },
} as const;

export const connectionListQuery = pagedQuery({
  provider: nameString,
  environment: nameString,
  status: str,
  subject: str,
  expiringWithin: { type: 'string', pattern: '^\\s*\\d+\\s*[smhd]?$' },
});

export const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { ...lineString, maxLength: 200 } },
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { ...lineString, maxLength: 200 } },
} as const;

export const forceQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { force: { enum: ['true', 'false', '1', '0'] } },
} as const;

export { duration as durationSchema };
