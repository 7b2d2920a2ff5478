import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { PruneResult } from './prune.js';

/** How often a process with a retention setting prunes: often enough for a setting in days. */
export const RETENTION_INTERVAL_MS = 24 * 3600 * 1000;
/** The first pass waits a little, so a start is not slowed by it. */
const FIRST_PASS_DELAY_MS = 60 * 1000;

/**
 * Prunes events older than the retention setting (LATCHKEY_AUDIT_RETENTION)
 * once a day and once shortly after start. Every replica may run it: two
 * prunes at once are safe (an anchor only moves forward), and each prune
 * that removes something records its own `audit.prune` event.
 */
export class AuditRetention {
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<PruneResult | undefined> | undefined;
  #stopped = false;

  constructor(
    private readonly deps: { prune(before: string): Promise<PruneResult>; clock: Clock; logger: Logger },
    private readonly retentionSeconds: number | undefined,
  ) {}

  start(): void {
    if (this.retentionSeconds === undefined || this.#timer !== undefined) return;
    const schedule = (ms: number): void => {
      this.#timer = setTimeout(() => {
        void this.runOnce().finally(() => {
          if (!this.#stopped) schedule(RETENTION_INTERVAL_MS);
        });
      }, ms);
      this.#timer.unref();
    };
    schedule(FIRST_PASS_DELAY_MS);
  }

  /** One pass now (also what the timer runs); undefined when retention is off or a pass is running. */
  async runOnce(): Promise<PruneResult | undefined> {
    if (this.retentionSeconds === undefined || this.#pass !== undefined || this.#stopped) return undefined;
    const before = new Date(this.deps.clock.now().getTime() - this.retentionSeconds * 1000).toISOString();
    this.#pass = this.deps
      .prune(before)
      .then((result) => {
        if (result.events > 0) this.deps.logger.info({ before, events: result.events, chains: result.chains }, 'audit events past retention pruned');
        return result;
      })
      .catch((err: unknown) => {
        // The next pass tries again; the log keeps everything meanwhile.
        this.deps.logger.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'audit retention pass failed');
        return undefined;
      })
      .finally(() => {
        this.#pass = undefined;
      });
    return this.#pass;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#pass;
  }
}
