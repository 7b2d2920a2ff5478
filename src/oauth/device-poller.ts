import type { OAuthDeps } from './deps.js';
import { pollDeviceAuthorization } from './device.js';

export interface DevicePollerOptions {
  /** How often to look for device codes when none is due soon (ms); other replicas may add some. */
  idleMs?: number;
  /** Shortest wait between two rounds (ms). */
  minMs?: number;
  /** Told when a device flow ends (the composition root audits it; nobody is waiting on a request). */
  onFinished?: (connectionId: string, outcome: 'active' | 'failed') => Promise<void>;
}

/**
 * Polls every due device code (RFC 8628 §3.4). The schedule lives in the
 * database (next_poll_at), so polling resumes after a restart and replicas
 * share the work: each poll is claimed with a compare-and-set first.
 */
export class DevicePoller {
  readonly #deps: OAuthDeps;
  readonly #idleMs: number;
  readonly #minMs: number;
  readonly #onFinished: DevicePollerOptions['onFinished'];
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #running = false;

  constructor(deps: OAuthDeps, options: DevicePollerOptions = {}) {
    this.#deps = deps;
    this.#idleMs = options.idleMs ?? 1000;
    this.#minMs = options.minMs ?? 50;
    this.#onFinished = options.onFinished;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Look now (a device code was just added). */
  wake(): void {
    if (this.#running && this.#round === undefined) this.#schedule(0);
  }

  /** Stops polling and waits for a round in flight, so no write lands after close. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#round;
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    if (!this.#running) return;
    this.#timer = setTimeout(() => this.#startRound(), ms);
    // The server keeps the process alive; a poller alone should not.
    this.#timer.unref();
  }

  #startRound(): void {
    if (this.#round !== undefined) return;
    this.#round = this.#pollDue()
      .catch((err: unknown) => {
        this.#deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'device polling round failed');
      })
      .then(() => this.#nextDelay())
      .then(
        (delay) => {
          this.#round = undefined;
          this.#schedule(delay);
        },
        () => {
          this.#round = undefined;
          this.#schedule(this.#idleMs);
        },
      );
  }

  async #pollDue(): Promise<void> {
    const { store, clock } = this.#deps;
    const now = clock.now();
    const due = await store.deviceAuthorizations.listDue(now.toISOString());
    await Promise.all(
      due.map(async (row) => {
        const next = new Date(now.getTime() + row.intervalSeconds * 1000).toISOString();
        if (!(await store.deviceAuthorizations.claimPoll(row.id, row.nextPollAt, next))) return;
        const outcome = await pollDeviceAuthorization(this.#deps, { ...row, nextPollAt: next });
        if (outcome === 'active' || outcome === 'failed') await this.#onFinished?.(row.connectionId, outcome);
      }),
    );
  }

  async #nextDelay(): Promise<number> {
    const next = await this.#deps.store.deviceAuthorizations.nextDue();
    if (next === undefined) return this.#idleMs;
    const wait = new Date(next).getTime() - this.#deps.clock.now().getTime();
    return Math.min(this.#idleMs, Math.max(this.#minMs, wait));
  }
}
