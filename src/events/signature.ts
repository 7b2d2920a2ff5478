import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'latchkey-signature';

/** `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`, the shape Stripe made familiar. */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body)}`;
}

function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/**
 * Checks a signature header as a receiver would: the HMAC must match and the
 * timestamp must be within `toleranceSeconds` of `now` (replay protection).
 */
export function verifySignature(
  secret: string,
  header: string,
  body: string,
  options: { now: number; toleranceSeconds?: number },
): boolean {
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const key = item.slice(0, eq).trim();
    parts.set(key, [...(parts.get(key) ?? []), item.slice(eq + 1).trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(t)) return false;
  if (Math.abs(options.now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(hmac(secret, t, body), 'hex');
  return (parts.get('v1') ?? []).some((candidate) => {
    const given = Buffer.from(candidate, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
