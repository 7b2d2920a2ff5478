import type { Clock } from '../clock.js';
import { AuditUnavailable } from '../errors.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import type { AuditChainHead, AuditStore } from '../store/index.js';
import { blockSearchKeys, genesisHash, hashBlock, macBlock } from './chain.js';
import type { AuditInput, StoredEvent } from './types.js';

interface Pending {
  /** Complete but for its place in the chain (id, seq), which the block fills in. */
  event: StoredEvent;
  resolve(): void;
  reject(err: unknown): void;
}

const MAX_BATCH = 256;

/** The action of an event recorded in encoded form because the database refused it as written. */
export const POISONED_ACTION = 'audit.poisoned';

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
  /** The HMAC key of a keyed chain (see chain.ts); without one, blocks are linked by plain SHA-256. */
  readonly #chainKey: Buffer | undefined;
  readonly #committed: ((head: AuditChainHead) => void) | undefined;

  constructor(deps: { store: AuditStore; clock: Clock; logger: Logger; chainKey?: Buffer; committed?: (head: AuditChainHead) => void }) {
    this.#chainKey = deps.chainKey;
    this.#committed = deps.committed;
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

  /**
   * Writes a batch as one block. If the database refuses the block for what it
   * holds (rather than being unavailable), the batch is split in halves and
   * each written on its own, down to the one event it cannot take: that
   * event's request fails alone, and a safe encoded copy of it is recorded.
   */
  async #write(batch: Pending[]): Promise<void> {
    const err = await this.#commit(batch.map((p) => p.event));
    if (err === undefined) {
      for (const p of batch) p.resolve();
      return;
    }
    if (batch.length > 1 && !this.#store.isUnavailable(err)) {
      const half = Math.ceil(batch.length / 2);
      await this.#write(batch.slice(0, half));
      await this.#write(batch.slice(half));
      return;
    }
    this.#logger.error({ err: { message: err instanceof Error ? err.message : String(err) } }, 'audit write failed');
    if (batch.length === 1 && !this.#store.isUnavailable(err)) await this.#recordPoisoned((batch[0] as Pending).event);
    const refusal = new AuditUnavailable('the audit log cannot be written, so the request was refused');
    for (const p of batch) p.reject(refusal);
  }

  /**
   * Records an event the database refused as written, in a form it can take:
   * the original event (actor, action, connection, detail) as base64 JSON,
   * marked `poisoned`. Its request still fails: what it did is not on record as itself.
   */
  async #recordPoisoned(event: StoredEvent): Promise<void> {
    const original = { actor: event.actor, action: event.action, connection: event.connection, detail: event.detail };
    const encoded: StoredEvent = {
      id: '',
      seq: 0,
      at: event.at,
      actor: { type: event.actor.type, id: null, name: null },
      action: POISONED_ACTION,
      connection: null,
      outcome: event.outcome,
      status: event.status,
      detail: { poisoned: true, encoding: 'base64-json', original: Buffer.from(JSON.stringify(original)).toString('base64') },
    };
    const err = await this.#commit([encoded]);
    if (err !== undefined) this.#logger.error({ err: { message: err instanceof Error ? err.message : String(err) } }, 'audit write of a poisoned event failed');
  }

  /** Writes events as the next block; the error if it was not written (the head then stays where it was). */
  async #commit(events: StoredEvent[]): Promise<unknown> {
    const { lastSeq, lastHash, lastBlock } = this.#head;
    // Earliest and latest time in the block (a clock may step back): what `since` and listing rely on.
    let earliest = (events[0] as StoredEvent).at;
    let latest = earliest;
    for (const [i, event] of events.entries()) {
      if (event.at < earliest) earliest = event.at;
      if (event.at > latest) latest = event.at;
      event.seq = lastSeq + i + 1;
      // The id names the event's place: unique without drawing random bytes for every event.
      event.id = `${this.chainId}.${event.seq}`;
    }
    const block = lastBlock + 1;
    const text = JSON.stringify(events);
    const hash = this.#chainKey === undefined ? hashBlock(lastHash, this.chainId, block, text) : macBlock(this.#chainKey, lastHash, this.chainId, block, text);
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
      return err;
    }
    this.#head = head;
    this.#committed?.(head);
    return undefined;
  }
}
