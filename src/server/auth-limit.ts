import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Clock } from '../clock.js';

/** Sources tracked at once; past it the oldest window is forgotten, so a flood of addresses cannot grow memory. */
export const MAX_TRACKED_SOURCES = 10_000;

export interface AuthLimitSettings {
  /** Failures per window; 0 turns the limit off. */
  limit: number;
  windowSeconds: number;
  maxSources?: number;
}

interface Window {
  start: number;
  failures: number;
  /** Whether this window's first refusal was audited (one event per source per window). */
  announced: boolean;
}

/**
 * Failed authentications per source, in fixed windows that start at a
 * source's first failure. Once a source has failed `limit` times, every
 * authentication from it is refused until its window ends. In memory, per
 * process: each replica counts on its own (docs/agents.md says what that
 * means). The Map keeps insertion order, which is window-start order, so the
 * oldest window is the first key.
 */
export class AuthFailureLimit {
  readonly #windows = new Map<string, Window>();
  readonly #windowMs: number;
  readonly #maxSources: number;

  constructor(
    private readonly clock: Clock,
    readonly settings: AuthLimitSettings,
  ) {
    this.#windowMs = settings.windowSeconds * 1000;
    this.#maxSources = settings.maxSources ?? MAX_TRACKED_SOURCES;
  }

  #current(source: string, now: number): Window | undefined {
    const window = this.#windows.get(source);
    if (window === undefined || now < window.start + this.#windowMs) return window;
    this.#windows.delete(source);
    return undefined;
  }

  /** Seconds until the source may authenticate again; 0 when it may now. */
  blockedFor(source: string): number {
    if (this.settings.limit === 0) return 0;
    const now = this.clock.now().getTime();
    const window = this.#current(source, now);
    if (window === undefined || window.failures < this.settings.limit) return 0;
    return Math.max(1, Math.ceil((window.start + this.#windowMs - now) / 1000));
  }

  /** Counts one failed authentication from the source. */
  fail(source: string): void {
    if (this.settings.limit === 0) return;
    const now = this.clock.now().getTime();
    const window = this.#current(source, now);
    if (window !== undefined) {
      window.failures += 1;
      return;
    }
    this.#windows.set(source, { start: now, failures: 1, announced: false });
    while (this.#windows.size > this.#maxSources) {
      const oldest = this.#windows.keys().next().value as string;
      this.#windows.delete(oldest);
    }
  }

  /** True once per blocked window (the caller audits that refusal); `unannounce` gives it back when that failed. */
  announce(source: string): boolean {
    const window = this.#windows.get(source);
    if (window === undefined || window.announced) return false;
    window.announced = true;
    return true;
  }

  unannounce(source: string): void {
    const window = this.#windows.get(source);
    if (window !== undefined) window.announced = false;
  }

  get trackedSources(): number {
    return this.#windows.size;
  }
}

/**
 * Where a request comes from, as the rate limit counts it: the peer address,
 * or with `trustProxy` the last X-Forwarded-For entry (the one the trusted
 * proxy added; earlier entries are whatever the client sent). IPv4-mapped
 * addresses count as IPv4, and an IPv6 address counts as its /64, since one
 * host commonly holds a whole /64.
 */
export function sourceOf(req: Pick<IncomingMessage, 'headers' | 'socket'>, trustProxy: boolean): string {
  let address = req.socket.remoteAddress ?? 'unknown';
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const last = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').pop()?.trim() ?? '';
    if (isIP(last) !== 0) address = last;
  }
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return address.slice(7);
  return isIP(address) === 6 ? prefix64(address) : address;
}

function prefix64(address: string): string {
  const bare = address.split('%')[0] as string;
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const [head = '', tail] = bare.split('::');
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const full = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${full
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
