/**
 * Operators, console sessions, sign-in links and operator API keys (issue 12):
 * request and response schemas, shared by the server and the OpenAPI document.
 */
import { lineString, nameString } from './schemas.js';

const role = { type: 'string', enum: ['viewer', 'operator', 'admin'] } as const;
// Length is checked by the registry (its message names the minimum); here only the transport bounds.
const password = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const time = { type: 'string', format: 'date-time' } as const;
const token = { type: 'string', minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9_-]+$' } as const;

export const operatorNameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: nameString },
} as const;

export const operatorKeyParams = {
  type: 'object',
  required: ['name', 'keyId'],
  properties: { name: nameString, keyId: nameString },
} as const;

export const createOperatorBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role'],
  properties: { name: nameString, role, password },
} as const;

export const updateOperatorBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { role, password },
} as const;

export const createOperatorKeyBody = {
  type: 'object',
  additionalProperties: false,
  properties: { role },
} as const;

/** `{name, password}` or `{signInToken}`; which one is checked by the route, so the message can say so. */
export const createSessionBody = {
  type: 'object',
  additionalProperties: false,
  properties: { name: nameString, password, signInToken: token },
} as const;

export const operatorView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'role', 'hasPassword', 'createdAt', 'updatedAt'],
  properties: { id: lineString, name: nameString, role, hasPassword: { type: 'boolean' }, createdAt: time, updatedAt: time },
} as const;

export const operatorList = { type: 'array', items: operatorView } as const;

export const operatorKeyView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'role', 'createdAt', 'lastUsedAt'],
  properties: { id: lineString, role, createdAt: time, lastUsedAt: { anyOf: [time, { type: 'null' }] } },
} as const;

export const operatorKeyList = { type: 'array', items: operatorKeyView } as const;

/** A new key: the only answer that carries `apiKey` (`lko_…`). */
export const operatorKeyCreated = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'role', 'createdAt', 'lastUsedAt', 'apiKey', 'operator'],
  properties: { ...operatorKeyView.properties, apiKey: { type: 'string' }, operator: nameString },
} as const;

export const signInLinkView = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'expiresAt'],
  properties: { url: { type: 'string' }, expiresAt: time },
} as const;

export const sessionView = {
  type: 'object',
  additionalProperties: false,
  required: ['operator', 'csrfToken', 'expiresAt', 'idleExpiresAt'],
  properties: {
    operator: { type: 'object', additionalProperties: false, required: ['id', 'name', 'role'], properties: { id: lineString, name: nameString, role } },
    csrfToken: { type: 'string' },
    expiresAt: time,
    idleExpiresAt: time,
  },
} as const;

export const signedOutView = {
  type: 'object',
  required: ['signedOut'],
  properties: { signedOut: { type: 'boolean' } },
} as const;
