import { createHash } from 'node:crypto';

/** Authorization requests live this long (api.md: state expires after 10 minutes). */
export const STATE_TTL_MS = 10 * 60 * 1000;

/** The row id for a state: its hash, so a database dump yields no usable state. */
export function stateId(state: string): string {
  return sha256Hex(state);
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** One cookie per request, so several consents can run in one browser at once. */
export function flowCookieName(rowId: string): string {
  return `lk_flow_${rowId.slice(0, 16)}`;
}

export function stateSecretsContext(id: string) {
  return { table: 'oauth_states', rowId: id, column: 'secrets' };
}

/** What the callback needs and nobody else may see. */
export interface StateSecrets {
  codeVerifier?: string;
  nonce?: string;
  /** The provider's authorization URL, for the start page to send the browser on to (it carries the state). */
  authorizationUrl?: string;
}
