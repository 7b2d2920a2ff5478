import type { Clock } from '../clock.js';
import { AuditUnavailable } from '../errors.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import type { AuditChainHead, AuditStore } from '../store/index.js';
import { blockSearchKeys, genesisHash, hashBlock } from './chain.js';
import type { AuditInput, StoredEvent } from './types.js';

interface Pending {
  /** Complete but for its place in the chain (id, seq), which the block fills in. */
  event: StoredEvent;
  resolve(): void;
  reject(err: unknown): void;
}

const MAX_BATCH = 256;

/**
 * Group commit: callers wait for their event to be durable, but events that
 * arrive while a block is being written go out together in the next one, as
 * one row and one transaction. Each process writes its own chain, so
 * replicas never contend for a single "last hash".
 */
export class AuditWriter {
  readonly chainId = newId('chn');
  readonly #store: AuditStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #queue: Pending[] = [];
  #running: Promise<void> | undefined;
  #head: AuditChainHead;

  constructor(deps: { store: AuditStore; clock: Clock; logger: Logger }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#head = {
      id: this.chainId,
      startedAt: this.#clock.now().toISOString(),
      lastSeq: 0,
      lastHash: genesisHash(this.chainId),
      lastBlock: 0,
    };
  }

  /** Resolves once the event is committed; rejects with AuditUnavailable if it could not be. */
  append(input: AuditInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({
        // Property order is the stored (and hashed) JSON's order.
        event: {
          id: '',
          seq: 0,
          at: this.#clock.now().toISOString(),
          actor: { type: input.actor.type, id: input.actor.id, name: input.actor.name },
          action: input.action,
          connection: input.connection ?? null,
          outcome: input.outcome,
          status: input.status ?? null,
          // A (shallow) copy: the caller may reuse its object before the block is written.
          detail: { ...input.detail },
        },
        resolve,
        reject,
      });
      // setImmediate lets every request handled in this turn of the event loop join the first block.
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
    const { lastSeq, lastHash, lastBlock } = this.#head;
    const events: StoredEvent[] = [];
    // Earliest and latest time in the block (a clock may step back): what `since` and listing rely on.
    let earliest = (batch[0] as Pending).event.at;
    let latest = earliest;
    for (const { event } of batch) {
      if (event.at < earliest) earliest = event.at;
      if (event.at > latest) latest = event.at;
      event.seq = lastSeq + events.length + 1;
      // The id names the event's place: unique without drawing random bytes for every event.
      event.id = `${this.chainId}.${event.seq}`;
      events.push(event);
    }
    const block = lastBlock + 1;
    const text = JSON.stringify(events);
    const hash = hashBlock(lastHash, this.chainId, block, text);
    const head = { ...this.#head, lastSeq: lastSeq + events.length, lastHash: hash, lastBlock: block };
    try {
      await this.#store.appendBlock(head, {
        chainId: this.chainId,
        block,
        firstSeq: lastSeq + 1,
        lastSeq: head.lastSeq,
        firstAt: earliest,
        lastAt: latest,
        events: text,
        searchKeys: blockSearchKeys(events),
        prevHash: lastHash,
        hash,
      });
    } catch (err) {
      // The head stays where it was, so the chain continues from the last committed block.
      this.#logger.error({ err: { message: err instanceof Error ? err.message : String(err) } }, 'audit write failed');
      const refusal = new AuditUnavailable('the audit log cannot be written, so the request was refused');
      for (const p of batch) p.reject(refusal);
      return;
    }
    this.#head = head;
    for (const p of batch) p.resolve();
  }
}
