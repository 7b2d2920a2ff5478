import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { AuditChainHead } from '../store/index.js';
import { signCheckpoint, writeCheckpoint, type SignedCheckpoint } from './checkpoint.js';

/** How long after a committed block this process's chain is checkpointed (at most). */
export const CHECKPOINT_INTERVAL_MS = 30_000;

export interface CheckpointerDeps {
  /** The checkpoint directory in the data directory. */
  dir: string;
  key: Buffer;
  clock: Clock;
  logger: Logger;
  /** Hands a written checkpoint on (the `audit.checkpoint` webhook event); must not throw. */
  published?: (checkpoint: SignedCheckpoint) => Promise<void>;
  intervalMs?: number;
}

/**
 * Checkpoints this process's chain off the hot path: a committed block only
 * records the new head; the file is written (and the event emitted) on a
 * timer, once right after the chain's first block (so the whole chain is
 * named early), and at close. A failed write is logged and tried again
 * after the next block; it never fails an audited request.
 */
export class AuditCheckpointer {
  readonly #deps: CheckpointerDeps;
  #head: AuditChainHead | undefined;
  #writtenBlock = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: CheckpointerDeps) {
    this.#deps = deps;
  }

  /** Called after each committed block: cheap. */
  committed(head: AuditChainHead): void {
    this.#head = head;
    if (this.#stopped || this.#timer !== undefined) return;
    const delay = this.#writtenBlock === 0 ? 0 : (this.#deps.intervalMs ?? CHECKPOINT_INTERVAL_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, delay);
    this.#timer.unref();
  }

  /** Writes a checkpoint of the newest committed block now, if it has none yet. */
  async flush(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
    const head = this.#head;
    if (head === undefined || head.lastBlock === this.#writtenBlock) return;
    this.#writing = this.#write(head).finally(() => {
      this.#writing = undefined;
    });
    await this.#writing;
  }

  async #write(head: AuditChainHead): Promise<void> {
    const checkpoint = signCheckpoint(this.#deps.key, {
      chainId: head.id,
      block: head.lastBlock,
      seq: head.lastSeq,
      hash: head.lastHash,
      at: this.#deps.clock.now().toISOString(),
    });
    try {
      await writeCheckpoint(this.#deps.dir, checkpoint);
    } catch (err) {
      this.#deps.logger.error({ err: { message: err instanceof Error ? err.message : String(err) }, chainId: head.id }, 'audit checkpoint could not be written');
      return;
    }
    this.#writtenBlock = head.lastBlock;
    await this.#deps.published?.(checkpoint);
  }

  /** The final checkpoint, at clean shutdown. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
