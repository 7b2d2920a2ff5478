import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../clock.js';
import type { EmitEvent } from '../events/index.js';
import type { Logger } from '../log.js';
import type { ConnectionRow, Store } from '../store/index.js';
import { KeyedLimiter } from './limiter.js';
import type { LatchkeyTokens } from './service.js';

export interface RefresherOptions {
  /** Seconds between passes; 0 leaves the loop off (runOnce still works). */
  intervalSeconds: number;
  /** Refresh tokens that expire within this many seconds. */
  leadSeconds: number;
  /** Background refreshes at once per provider, so a big provider cannot starve the others or trip its rate limit. */
  concurrency: number;
  skewSeconds: number;
  /** `connection.expiring` goes out this long before the refresh token itself expires (default 7 days). */
  expiringNoticeSeconds?: number;
}

/**
 * Refreshes connections before callers need it. Each pass lists what expires
 * within the lead time and spreads the refreshes over the first half of the
 * interval with jitter. Several replicas may list the same rows; the refresh
 * claim and the version check after it make sure only one refreshes each.
 */
export class BackgroundRefresher {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #tokens: LatchkeyTokens;
  readonly #emit: EmitEvent | undefined;
  readonly #options: RefresherOptions;
  readonly #limiter: KeyedLimiter;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<number> | undefined;
  #stopped = false;

  constructor(
    deps: { store: Store; clock: Clock; logger: Logger; tokens: LatchkeyTokens; emit?: EmitEvent },
    options: RefresherOptions,
  ) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#tokens = deps.tokens;
    this.#emit = deps.emit;
    this.#options = options;
    this.#limiter = new KeyedLimiter(options.concurrency);
  }

  start(): void {
    if (this.#options.intervalSeconds <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.#tick(), this.#options.intervalSeconds * 1000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pass?.catch(() => undefined);
  }

  async #tick(): Promise<void> {
    if (this.#pass !== undefined || this.#stopped) return;
    try {
      await this.runOnce({ spreadMs: (this.#options.intervalSeconds * 1000) / 2 });
    } catch (err) {
      this.#logger.error({ err: err instanceof Error ? err.message : String(err) }, 'background refresh pass failed');
    }
  }

  /** One pass; resolves with the number of connections it tried to refresh. */
  runOnce(options: { spreadMs?: number } = {}): Promise<number> {
    this.#pass ??= this.#run(options.spreadMs ?? 0).finally(() => {
      this.#pass = undefined;
    });
    return this.#pass;
  }

  async #run(spreadMs: number): Promise<number> {
    const now = this.#clock.now();
    const before = new Date(now.getTime() + this.#options.leadSeconds * 1000).toISOString();
    const rows = (await this.#store.connections.listExpiring(before, now.toISOString(), 500)).filter((r) => this.#due(r, now));
    await Promise.all(
      rows.map(async (row) => {
        if (spreadMs > 0) await delay(Math.floor(Math.random() * spreadMs));
        if (this.#stopped) return;
        await this.#limiter.run(row.providerId, () => this.#tokens.refreshAhead(row.id, row.version));
      }),
    );
    if (rows.length > 0) this.#logger.debug({ connections: rows.length }, 'background refresh pass done');
    await this.#announceExpiring(now);
    await this.#tokens.checkProviders();
    return rows.length;
  }

  /**
   * A refresh token that will itself expire (refresh_token_expires_in) cannot be
   * refreshed past that date: tell someone in time to reconnect. Once per
   * refresh token, across replicas (the event id is derived from it).
   */
  async #announceExpiring(now: Date): Promise<void> {
    if (this.#emit === undefined) return;
    const notice = this.#options.expiringNoticeSeconds ?? 7 * 86400;
    const rows = await this.#store.connections.listRefreshTokenExpiring(new Date(now.getTime() + notice * 1000).toISOString(), 500);
    for (const row of rows) {
      const provider = await this.#store.providers.findById(row.providerId);
      await this.#emit(
        'connection.expiring',
        {
          id: row.id,
          name: row.name,
          ...(provider === undefined ? {} : { provider: provider.name }),
          status: row.status,
          refreshTokenExpiresAt: row.refreshTokenExpiresAt,
        },
        { dedupeKey: `${row.id}:${row.refreshTokenExpiresAt ?? ''}` },
      );
    }
  }

  /**
   * Within the lead time, but not so early that short-lived tokens are
   * refreshed on every pass: wait until half the lifetime is gone, or until
   * the token would expire before the next pass.
   */
  #due(row: ConnectionRow, now: Date): boolean {
    if (row.expiresAt === null) return false;
    const left = Date.parse(row.expiresAt) - now.getTime();
    if (row.lastRefreshedAt === null) return true;
    const lifetime = Date.parse(row.expiresAt) - Date.parse(row.lastRefreshedAt);
    return left <= lifetime / 2 || left <= (this.#options.intervalSeconds + this.#options.skewSeconds) * 1000;
  }
}
