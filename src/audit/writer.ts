import type { Clock } from '../clock.js';
import { AuditUnavailable } from '../errors.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import type { AuditChainRow, AuditEventRow, AuditStore } from '../store/index.js';
import { genesisHash, hashEvent } from './chain.js';
import type { AuditInput } from './types.js';

interface Pending {
  /** Complete but for its place in the chain (id, seq, prevHash, hash), which the batch fills in. */
  row: AuditEventRow;
  resolve(): void;
  reject(err: unknown): void;
}

const MAX_BATCH = 256;

/**
 * Group commit: callers wait for their event to be durable, but events that
 * arrive while a batch is being written go out together in the next one
 * transaction. Each process writes its own chain, so replicas never contend
 * for a single "last hash".
 */
export class AuditWriter {
  readonly chainId = newId('chn');
  readonly #store: AuditStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #queue: Pending[] = [];
  #running: Promise<void> | undefined;
  #head: AuditChainRow;

  constructor(deps: { store: AuditStore; clock: Clock; logger: Logger }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#head = {
      id: this.chainId,
      startedAt: this.#clock.now().toISOString(),
      lastSeq: 0,
      lastHash: genesisHash(this.chainId),
    };
  }

  /** Resolves once the event is committed; rejects with AuditUnavailable if it could not be. */
  append(input: AuditInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({
        row: {
          chainId: this.chainId,
          seq: 0,
          id: '',
          at: this.#clock.now().toISOString(),
          actorType: input.actor.type,
          actorId: input.actor.id,
          actorName: input.actor.name,
          action: input.action,
          connection: input.connection ?? null,
          outcome: input.outcome,
          status: input.status ?? null,
          detail: JSON.stringify(input.detail ?? {}),
          prevHash: '',
          hash: '',
        },
        resolve,
        reject,
      });
      // setImmediate lets every request handled in this turn of the event loop join the first batch.
      this.#running ??= new Promise<void>((done) => setImmediate(done)).then(() => this.#drain());
    });
  }

  /** Waits until everything appended so far has been written (or refused). */
  async flush(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        await this.#write(batch);
      }
    } finally {
      this.#running = undefined;
    }
  }

  async #write(batch: Pending[]): Promise<void> {
    let { lastSeq, lastHash } = this.#head;
    // Rows are filled in place: this runs for every event, so it avoids copying them.
    const rows: AuditEventRow[] = [];
    for (const { row } of batch) {
      lastSeq += 1;
      // The id names the event's place: unique without drawing random bytes for every event.
      row.id = `${this.chainId}.${lastSeq}`;
      row.seq = lastSeq;
      row.prevHash = lastHash;
      row.hash = hashEvent(row);
      lastHash = row.hash;
      rows.push(row);
    }
    const head = { ...this.#head, lastSeq, lastHash };
    try {
      await this.#store.appendBatch(head, rows);
    } catch (err) {
      // The head stays where it was, so the chain continues from the last committed event.
      this.#logger.error({ err: { message: err instanceof Error ? err.message : String(err) } }, 'audit write failed');
      const refusal = new AuditUnavailable('the audit log cannot be written, so the request was refused');
      for (const p of batch) p.reject(refusal);
      return;
    }
    this.#head = head;
    for (const p of batch) p.resolve();
  }
}
