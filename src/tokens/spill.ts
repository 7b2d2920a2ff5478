import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { Store, TokenWrite } from '../store/index.js';

/**
 * A token answer that could not be written to the database (an outage longer
 * than the commit loop waits): kept on local disk so the only copy of a
 * rotated refresh token survives a crash. The tokens in `write` are sealed
 * with the keyring exactly as in the database; the rest is not secret.
 */
export interface SpilledAnswer {
  connectionId: string;
  name: string;
  /** The version the refresher read; the answer commits only against it. */
  expectedVersion: number;
  /** The intent text written before sending: unchanged means nobody has sent since. */
  intent: string;
  write: TokenWrite;
  at: string;
}

const SUFFIX = '.json';

/** One file per connection in the data directory's spill/ folder (mode 0600, fsynced). */
export class SpillDir {
  constructor(readonly dir: string) {}

  save(answer: SpilledAnswer): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.#file(answer.connectionId);
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(answer));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    // The rename itself must survive a power cut too.
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  list(): SpilledAnswer[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith(SUFFIX));
    } catch {
      return [];
    }
    const out: SpilledAnswer[] = [];
    for (const name of names) {
      try {
        out.push(JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as SpilledAnswer);
      } catch {
        // a torn write cannot happen (rename), but an unreadable file must not stop the others
      }
    }
    return out;
  }

  /** Removes the spill of `connectionId` if it is still the one for `intent`. */
  remove(connectionId: string, intent: string): void {
    const file = this.#file(connectionId);
    try {
      const current = JSON.parse(readFileSync(file, 'utf8')) as SpilledAnswer;
      if (current.intent !== intent) return;
    } catch {
      return;
    }
    rmSync(file, { force: true });
  }

  #file(connectionId: string): string {
    // Connection ids are generated (conn_…); keep the name safe whatever they hold.
    return join(this.dir, `${connectionId.replace(/[^A-Za-z0-9_-]/g, '_')}${SUFFIX}`);
  }
}

export interface ReplayDeps {
  store: Store;
  logger: Logger;
  now: () => string;
  /** Called for each answer that committed (the connection.refreshed event). */
  onCommitted: (answer: SpilledAnswer) => Promise<void>;
}

/**
 * Commits spilled answers: each against its version and intent, so one is
 * stored only if nobody has refreshed or sent since. Committed and stale
 * spills are removed; those the database still refuses stay for next time.
 * Returns how many are left.
 */
export async function replaySpills(spill: SpillDir, deps: ReplayDeps): Promise<number> {
  let left = 0;
  for (const answer of spill.list()) {
    try {
      const committed = await deps.store.connections.saveAnsweredTokens(
        answer.connectionId,
        answer.expectedVersion,
        answer.intent,
        answer.write,
        deps.now(),
      );
      if (committed) {
        deps.logger.info({ connection: answer.name, spilledAt: answer.at }, 'stored a refresh answer kept on disk during a database outage');
        spill.remove(answer.connectionId, answer.intent);
        await deps.onCommitted(answer);
        continue;
      }
      const row = await deps.store.connections.findById(answer.connectionId);
      if (row === undefined || row.version !== answer.expectedVersion || row.refreshIntent !== answer.intent) {
        deps.logger.warn({ connection: answer.name, spilledAt: answer.at }, 'dropped a spilled refresh answer: the connection changed since');
        spill.remove(answer.connectionId, answer.intent);
        continue;
      }
      left += 1;
    } catch (err) {
      deps.logger.warn({ connection: answer.name, err: err instanceof Error ? err.message : String(err) }, 'spilled refresh answer not stored yet');
      left += 1;
    }
  }
  return left;
}

/**
 * Replays spills at start and, after a spill is written, every second until
 * the database has taken them all. Timers are unref'd: a spill left over at
 * shutdown is replayed by the next start.
 */
export class SpillReplayer {
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(
    private readonly spill: SpillDir,
    private readonly deps: ReplayDeps,
  ) {}

  kick(delayMs = 1000): void {
    if (this.#timer !== undefined || this.#running) return;
    this.#timer = setTimeout(() => void this.#run(), delayMs);
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    this.#timer = undefined;
    this.#running = true;
    let left = 0;
    try {
      left = await replaySpills(this.spill, this.deps);
    } finally {
      this.#running = false;
    }
    if (left > 0) this.kick();
  }
}
