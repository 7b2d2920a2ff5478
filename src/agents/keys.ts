import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `lk_` + 256 random bits in base64url. */
export const AGENT_KEY_PATTERN = /^lk_[A-Za-z0-9_-]{43}$/;

export function generateAgentKey(): { key: string; hash: string } {
  const key = `lk_${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashAgentKey(key) };
}

/**
 * SHA-256 suffices for 256-bit random keys: there is nothing to brute-force.
 * One-shot `hash` (runs on every agent request) skips building a Hash object.
 */
export function hashAgentKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** Constant-time comparison of two hex digests. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
