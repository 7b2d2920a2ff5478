/**
 * Access proposals (api.md, "People, links and proposals"; docs/agents.md,
 * "Asking for access"): request schemas the server validates with, and the
 * response schemas the OpenAPI document is built from.
 */
import { durationSchema, idParams, lineString, nameString, pathString } from './schemas.js';
import { SINGLE_LINE_PATTERN, TEXT_PATTERN } from './text.js';

const methods = { type: 'array', items: { ...lineString, maxLength: 16 }, minItems: 1, maxItems: 10 } as const;
const paths = { type: 'array', items: pathString, minItems: 1, maxItems: 20 } as const;
const capabilities = { type: 'array', items: nameString, minItems: 1, maxItems: 50 } as const;
const connections = { type: 'array', items: nameString, minItems: 1, maxItems: 50 } as const;
const leaseAsk = {
  type: 'object',
  additionalProperties: false,
  properties: { maxTtl: durationSchema, rotate: { type: 'boolean' } },
} as const;
/** Untrusted text from an agent or operator: stored and returned as data, never rendered as HTML. */
const reason = { type: 'string', minLength: 1, maxLength: 1000, pattern: TEXT_PATTERN } as const;

export const PROPOSAL_STATUSES = ['pending', 'approved', 'denied'] as const;

export const createProposalBody = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: { connection: nameString, provider: nameString, methods, paths, capabilities, lease: leaseAsk, reason },
} as const;

export const approveProposalBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rule: {
      type: 'object',
      additionalProperties: false,
      properties: { connections, methods, paths, capabilities },
    },
    lease: { anyOf: [{ const: false }, leaseAsk] },
  },
} as const;

export const denyProposalBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason },
} as const;

export const proposalListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: PROPOSAL_STATUSES },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
    cursor: { type: 'string', maxLength: 512, pattern: SINGLE_LINE_PATTERN },
  },
} as const;

export const proposalParams = idParams;

const stringArray = { type: 'array', items: { type: 'string' } } as const;
const leaseView = { type: 'object', properties: { maxTtl: { type: 'integer' }, rotate: { type: 'boolean' } } } as const;

/** A proposal as the API answers it. */
export const proposalView = {
  type: 'object',
  required: ['id', 'agent', 'status', 'request', 'reason', 'createdAt', 'decidedAt', 'decidedBy', 'rule', 'lease', 'decisionReason'],
  properties: {
    id: { type: 'string' },
    agent: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
    status: { type: 'string', enum: PROPOSAL_STATUSES },
    request: {
      type: 'object',
      properties: {
        connection: { type: 'string' },
        provider: { type: 'string' },
        methods: stringArray,
        paths: stringArray,
        capabilities: stringArray,
        lease: leaseView,
      },
    },
    reason: { type: 'string' },
    createdAt: { type: 'string' },
    decidedAt: { type: ['string', 'null'] },
    decidedBy: {
      type: ['object', 'null'],
      properties: { type: { type: 'string' }, id: { type: ['string', 'null'] }, name: { type: ['string', 'null'] } },
    },
    rule: {
      type: ['object', 'null'],
      properties: { connections: stringArray, methods: stringArray, paths: stringArray, capabilities: stringArray },
    },
    lease: { type: ['object', 'null'], properties: leaseView.properties },
    decisionReason: { type: ['string', 'null'] },
  },
} as const;

/** `GET /v1/proposals`: the bare array, or `{items, nextCursor}` when `limit` or `cursor` was given. */
export const proposalList = {
  anyOf: [
    { type: 'array', items: proposalView },
    { type: 'object', required: ['items', 'nextCursor'], properties: { items: { type: 'array', items: proposalView }, nextCursor: { type: ['string', 'null'] } } },
  ],
} as const;
