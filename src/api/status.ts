/**
 * `GET /v1/status` (viewer): what `latchkey status` shows — the server's
 * version, its database, the key state, connections by status, and what needs
 * a person (connections that must be reconnected or that failed, providers that
 * refuse Latchkey's client).
 */

const count = { type: 'integer', minimum: 0 } as const;
const nullableString = { type: ['string', 'null'] } as const;

export const STATUS_ATTENTION_MAX = 50;

export const statusResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'database', 'keys', 'connections', 'attention', 'needsAttention'],
  properties: {
    version: { type: 'string' },
    database: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: { kind: { type: 'string', enum: ['sqlite', 'postgres'] } },
    },
    keys: {
      type: 'object',
      additionalProperties: false,
      required: ['activeKeyId', 'total', 'byStatus', 'masterKey'],
      properties: {
        activeKeyId: nullableString,
        total: count,
        byStatus: { type: 'object', additionalProperties: count },
        /** Where the master key comes from: LATCHKEY_MASTER_KEY or the key file in the data directory. */
        masterKey: { type: 'string', enum: ['env', 'file'] },
      },
    },
    connections: {
      type: 'object',
      additionalProperties: false,
      required: ['total', 'byStatus'],
      properties: { total: count, byStatus: { type: 'object', additionalProperties: count } },
    },
    /** At most STATUS_ATTENTION_MAX items; the counts say how many there are in all. */
    attention: {
      type: 'array',
      maxItems: STATUS_ATTENTION_MAX,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'name', 'status', 'reason'],
        properties: {
          kind: { type: 'string', enum: ['connection', 'provider'] },
          name: { type: 'string' },
          provider: { type: 'string' },
          status: { type: 'string' },
          reason: nullableString,
        },
      },
    },
    needsAttention: { type: 'boolean' },
  },
} as const;

export interface StatusView {
  version: string;
  database: { kind: 'sqlite' | 'postgres' };
  keys: { activeKeyId: string | null; total: number; byStatus: Record<string, number>; masterKey: 'env' | 'file' };
  connections: { total: number; byStatus: Record<string, number> };
  attention: Array<{ kind: 'connection' | 'provider'; name: string; provider?: string; status: string; reason: string | null }>;
  needsAttention: boolean;
}
