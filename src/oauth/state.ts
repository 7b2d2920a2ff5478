import { createHash } from 'node:crypto';

/** Authorization requests live this long (api.md: state expires after 10 minutes). */
export const STATE_TTL_MS = 10 * 60 * 1000;

/** The row id for a state: its hash, so a database dump yields no usable state. */
export function stateId(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

export function stateSecretsContext(id: string) {
  return { table: 'oauth_states', rowId: id, column: 'secrets' };
}

/** What the callback needs and nobody else may see. */
export interface StateSecrets {
  codeVerifier?: string;
  nonce?: string;
}
