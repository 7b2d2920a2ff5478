import { createHash } from 'node:crypto';

/**
 * What a refresher writes on the row before it sends a refresh token
 * (DESIGN.md, Refresh): who (owner and claim generation), when, and a
 * fingerprint of the token sent. If the answer is lost and the provider had
 * rotated, the next refresher can say so; and while the intent is unchanged
 * nobody has sent since, which is what lets a late or spilled answer commit.
 */
export interface RefreshIntent {
  owner: string;
  generation?: number;
  at: string;
  fingerprint: string;
}

/** A truncated SHA-256: identifies a refresh token without revealing anything usable. */
export function fingerprintOf(refreshToken: string): string {
  return createHash('sha256').update(refreshToken, 'utf8').digest('hex').slice(0, 16);
}

export function parseIntent(text: string | null): RefreshIntent | undefined {
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as Partial<RefreshIntent>;
    if (typeof value.owner === 'string' && typeof value.at === 'string' && typeof value.fingerprint === 'string') {
      return {
        owner: value.owner,
        ...(typeof value.generation === 'number' ? { generation: value.generation } : {}),
        at: value.at,
        fingerprint: value.fingerprint,
      };
    }
  } catch {
    // an unreadable intent is no intent
  }
  return undefined;
}
