import { backoffSeconds, type BackoffPolicy } from '../backoff.js';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import { addressRefusal, type OutboundFetch } from '../net/index.js';
import type { DueDelivery, Store } from '../store/index.js';
import { signatureHeader } from './signature.js';
import type { WebhookRegistry } from './webhooks.js';

export interface DeliveryOptions {
  /** Seconds between passes over the outbox; 0: only when nudged or run by hand. */
  intervalSeconds: number;
  backoff?: BackoffPolicy;
  /** Seconds one POST may take. */
  timeoutSeconds?: number;
  /** How many deliveries are sent at once. */
  concurrency?: number;
  /** Days delivered deliveries (and events nobody still waits for) are kept; 0 keeps them forever. */
  retentionDays?: number;
}

const DEFAULT_BACKOFF: BackoffPolicy = { baseSeconds: 5, maxSeconds: 3600 };

/**
 * Sends pending webhook deliveries from the outbox until each is acknowledged
 * with a 2xx. Everything it needs is in the database, so a restart (or another
 * replica) carries on where it stopped; the claim on each delivery keeps two
 * replicas from sending the same one at once.
 */
export class WebhookDelivery {
  readonly #store: Store;
  readonly #webhooks: WebhookRegistry;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #fetch: OutboundFetch;
  readonly #options: Required<DeliveryOptions>;
  readonly #owner = newId('dlv');
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #lastPrune = 0;

  /** `fetch`: the address-guarded one (net/), so a receiver's name cannot lead to an internal address. */
  constructor(deps: { store: Store; webhooks: WebhookRegistry; clock: Clock; logger: Logger; fetch: OutboundFetch }, options: DeliveryOptions) {
    this.#store = deps.store;
    this.#webhooks = deps.webhooks;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#fetch = deps.fetch;
    this.#options = {
      intervalSeconds: options.intervalSeconds,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      timeoutSeconds: options.timeoutSeconds ?? 10,
      concurrency: options.concurrency ?? 8,
      retentionDays: options.retentionDays ?? 7,
    };
  }

  start(): void {
    if (this.#options.intervalSeconds <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.nudge(), this.#options.intervalSeconds * 1000);
    this.#timer.unref();
    this.nudge();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    // A failed pass was logged already; it must not stop the shutdown.
    await this.#running?.catch(() => undefined);
  }

  /** Something was appended: look at the outbox soon (no-op once stopped). */
  nudge(): void {
    if (this.#stopped) return;
    void this.runOnce().catch((err: unknown) =>
      this.#logger.error({ err: err instanceof Error ? err.message : String(err) }, 'webhook delivery pass failed'),
    );
  }

  /** One pass over due deliveries; concurrent calls coalesce into one extra pass. */
  runOnce(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#pass();
        } while (this.#again && !this.#stopped);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  async #pass(): Promise<void> {
    await this.#pruneHourly();
    const due = await this.#store.events.dueDeliveries(this.#clock.now().toISOString(), 100);
    for (let i = 0; i < due.length; i += this.#options.concurrency) {
      await Promise.all(due.slice(i, i + this.#options.concurrency).map((d) => this.#deliver(d)));
    }
  }

  /** Keeps the outbox from growing forever; cheap enough to run from any replica. */
  async #pruneHourly(): Promise<void> {
    const now = this.#clock.now().getTime();
    if (this.#options.retentionDays <= 0 || now - this.#lastPrune < 3600_000) return;
    this.#lastPrune = now;
    const before = new Date(now - this.#options.retentionDays * 86400_000).toISOString();
    const pruned = await this.#store.events.pruneDelivered(before);
    if (pruned.deliveries + pruned.events > 0) this.#logger.info(pruned, 'pruned delivered webhook events');
  }

  async #deliver(delivery: DueDelivery): Promise<void> {
    const now = this.#clock.now();
    const until = new Date(now.getTime() + (this.#options.timeoutSeconds + 30) * 1000).toISOString();
    if (!(await this.#store.events.claimDelivery(delivery.id, this.#owner, now.toISOString(), until))) return;
    const attempts = delivery.attempts + 1;
    let status: number | null = null;
    let error: string;
    try {
      const webhook = await this.#webhooks.get(delivery.webhookId);
      const secret = await this.#webhooks.secretOf(webhook);
      const timestamp = Math.floor(this.#clock.now().getTime() / 1000);
      const response = await this.#fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Latchkey-Webhooks/1',
          'latchkey-signature': signatureHeader(secret, timestamp, delivery.payload),
          'latchkey-event': delivery.type,
          'latchkey-delivery': delivery.id,
        },
        body: delivery.payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#options.timeoutSeconds * 1000),
      });
      status = response.status;
      await response.body?.cancel();
      if (status >= 200 && status < 300) {
        await this.#store.events.markDelivered(delivery.id, this.#owner, { at: this.#clock.now().toISOString(), status, attempts });
        this.#logger.info({ delivery: delivery.id, event: delivery.type, attempts }, 'webhook delivered');
        return;
      }
      error = `receiver answered HTTP ${status}`;
    } catch (err) {
      error = describe(err);
    }
    const wait = backoffSeconds(attempts, this.#options.backoff);
    const nextAttemptAt = new Date(this.#clock.now().getTime() + wait * 1000).toISOString();
    await this.#store.events.scheduleRetry(delivery.id, this.#owner, { attempts, nextAttemptAt, lastStatus: status, lastError: error });
    this.#logger.warn({ delivery: delivery.id, event: delivery.type, attempts, retryInSeconds: wait, reason: error }, 'webhook delivery failed');
  }
}

/** Why a POST failed, without the URL's query or anything secret. */
function describe(err: unknown): string {
  const refused = addressRefusal(err);
  if (refused !== undefined) return `not sent: ${refused.message}`;
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return `receiver unreachable (${code})`;
    if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'receiver did not answer in time';
    e = (e as { cause?: unknown }).cause;
  }
  return err instanceof Error ? `delivery failed (${err.name})` : 'delivery failed';
}
