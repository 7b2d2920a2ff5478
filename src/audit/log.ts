import type { Clock } from '../clock.js';
import { InvalidRequest } from '../errors.js';
import type { Logger } from '../log.js';
import type { AuditEventRow, AuditPosition, AuditStore } from '../store/index.js';
import { ADMIN_ACTOR, type AuditDetail, type AuditEvent, type AuditInput, type StoredEvent } from './types.js';
import { searchKey } from './chain.js';
import { pruneAudit, type PruneResult } from './prune.js';
import { verifyAudit, type VerifyResult } from './verify.js';
import { readCheckpoints, type SignedCheckpoint } from './checkpoint.js';
import { AuditCheckpointer } from './checkpointer.js';
import { AuditWriter } from './writer.js';

export interface AuditQuery {
  /** agent id or name */
  agent?: string;
  connection?: string;
  action?: string;
  /** ISO time */
  since?: string;
  /** 1 to 1001 (the API's largest page and one more, to learn whether a next page exists); default 100. */
  limit?: number;
  /** Only events after this one in the list's newest-first order (a page's keyset). */
  before?: AuditPosition;
}

/** Blocks read per query while listing. */
const BLOCK_PAGE = 100;

function fromStored(e: StoredEvent): AuditEvent {
  return { id: e.id, at: e.at, actor: e.actor, action: e.action, connection: e.connection, outcome: e.outcome, status: e.status, detail: e.detail };
}

/** Newest first, as the API lists them; ties by chain, then position (a number: `….10` after `….9`). */
function newestFirst(a: AuditEvent, b: AuditEvent): number {
  if (a.at !== b.at) return a.at < b.at ? 1 : -1;
  const [aChain, aSeq] = splitId(a.id);
  const [bChain, bSeq] = splitId(b.id);
  if (aChain !== bChain) return aChain < bChain ? 1 : -1;
  return bSeq - aSeq;
}

/** Where an event sits in the list's order, for a page's keyset. */
export function auditPosition(e: Pick<AuditEvent, 'at' | 'id'>): AuditPosition {
  const [chainId, seq] = splitId(e.id);
  return { at: e.at, chainId, seq };
}

/** Whether `e` comes after `p` in newest-first order. */
function after(p: AuditPosition, e: Pick<AuditEvent, 'at' | 'id'>): boolean {
  if (e.at !== p.at) return e.at < p.at;
  const [chain, seq] = splitId(e.id);
  if (chain !== p.chainId) return chain < p.chainId;
  return seq < p.seq;
}

/** `chn_….N` → [chain, N]. */
function splitId(id: string): [string, number] {
  const dot = id.lastIndexOf('.');
  return [id.slice(0, dot), Number(id.slice(dot + 1))];
}

function fromLegacyRow(r: AuditEventRow): AuditEvent {
  return {
    id: r.id,
    at: r.at,
    actor: { type: r.actorType as AuditEvent['actor']['type'], id: r.actorId, name: r.actorName },
    action: r.action,
    connection: r.connection,
    outcome: r.outcome,
    status: r.status,
    detail: JSON.parse(r.detail) as AuditDetail,
  };
}

/**
 * Keys the chain and checkpoints it (see docs/agents.md, "Audit"): both keys
 * derive from the master key; the directory is in the data directory.
 */
export interface AuditKeying {
  chainKey: Buffer;
  checkpointKey: Buffer;
  checkpointDir: string;
  /** Where each written checkpoint also goes (the `audit.checkpoint` webhook event); must not throw. */
  published?: (checkpoint: SignedCheckpoint) => Promise<void>;
  checkpointIntervalMs?: number;
}

/** The audit log: append (fail-closed), list, verify. */
export function auditLog(deps: { store: AuditStore; clock: Clock; logger: Logger; keying?: AuditKeying }) {
  const keying = deps.keying;
  const checkpointer =
    keying === undefined
      ? undefined
      : new AuditCheckpointer({
          dir: keying.checkpointDir,
          key: keying.checkpointKey,
          clock: deps.clock,
          logger: deps.logger,
          ...(keying.published === undefined ? {} : { published: keying.published }),
          ...(keying.checkpointIntervalMs === undefined ? {} : { intervalMs: keying.checkpointIntervalMs }),
        });
  const writer = new AuditWriter({
    ...deps,
    ...(keying === undefined ? {} : { chainKey: keying.chainKey }),
    ...(checkpointer === undefined ? {} : { committed: (head) => checkpointer.committed(head) }),
  });

  async function verify(): Promise<VerifyResult> {
    if (keying === undefined) return verifyAudit(deps.store);
    // Read before the walk: a block committed meanwhile is past any checkpoint read here.
    const checkpoints = await readCheckpoints(keying.checkpointDir, keying.checkpointKey);
    return verifyAudit(deps.store, { chainKey: keying.chainKey, checkpoints });
  }

  /** Throws AuditUnavailable when the event cannot be written: the caller must then refuse what it records. */
  function record(input: AuditInput): Promise<void> {
    return writer.append(input);
  }

  /** For admin routes: `await core.audit.admin('provider.create', { detail: { provider: name } })`. */
  function admin(action: string, fields: Omit<AuditInput, 'actor' | 'action' | 'outcome'> & { outcome?: AuditInput['outcome'] } = {}): Promise<void> {
    return writer.append({ actor: ADMIN_ACTOR, action, outcome: fields.outcome ?? 'success', ...fields });
  }

  async function list(query: AuditQuery = {}): Promise<AuditEvent[]> {
    let since: string | undefined;
    if (query.since !== undefined) {
      const at = new Date(query.since);
      if (Number.isNaN(at.getTime())) throw new InvalidRequest('since must be an ISO 8601 time');
      since = at.toISOString();
    }
    const limit = Math.min(Math.max(query.limit ?? 100, 1), 1001);
    const before = query.before;
    const matches = (e: StoredEvent): boolean =>
      (before === undefined || after(before, e)) &&
      (query.agent === undefined || e.actor.id === query.agent || e.actor.name === query.agent) &&
      (query.connection === undefined || e.connection === query.connection) &&
      (query.action === undefined || e.action === query.action) &&
      (since === undefined || e.at >= since);
    // Only blocks holding every filtered value; `matches` still decides event by event.
    const keys = [
      ...(query.agent === undefined ? [] : [searchKey('a', query.agent)]),
      ...(query.connection === undefined ? [] : [searchKey('c', query.connection)]),
      ...(query.action === undefined ? [] : [searchKey('x', query.action)]),
    ];
    // Blocks come newest first by their latest event. Once `limit` matches are in hand, a block whose
    // latest event is older than the last of them cannot change the answer, and neither can any after it.
    const found: AuditEvent[] = [];
    for (let offset = 0; ; offset += BLOCK_PAGE) {
      const blocks = await deps.store.recentBlocks({
        ...(since === undefined ? {} : { since }),
        ...(before === undefined ? {} : { until: before.at }),
        keys,
        offset,
        limit: BLOCK_PAGE,
      });
      let done = blocks.length < BLOCK_PAGE;
      for (const block of blocks) {
        if (found.length >= limit) {
          found.sort(newestFirst);
          found.length = limit;
          if (block.lastAt < (found[limit - 1] as AuditEvent).at) {
            done = true;
            break;
          }
        }
        for (const e of JSON.parse(block.events) as StoredEvent[]) if (matches(e)) found.push(fromStored(e));
      }
      if (done) break;
    }
    const legacy = await deps.store.listLegacy({
      ...(query.agent === undefined ? {} : { actorId: query.agent, actorName: query.agent }),
      ...(query.connection === undefined ? {} : { connection: query.connection }),
      ...(query.action === undefined ? {} : { action: query.action }),
      ...(since === undefined ? {} : { since }),
      ...(before === undefined ? {} : { before }),
      limit,
    });
    return [...found, ...legacy.map(fromLegacyRow)].sort(newestFirst).slice(0, limit);
  }

  /**
   * Removes events older than `before` (ISO time in the past), recording the
   * new chain anchors in an `audit.prune` event first; see prune.ts.
   */
  async function prune(before: string): Promise<PruneResult> {
    const at = new Date(before);
    if (Number.isNaN(at.getTime())) throw new InvalidRequest('before must be an ISO 8601 time');
    if (at.getTime() > deps.clock.now().getTime()) throw new InvalidRequest('before must not be in the future');
    // So that the chain heads the plan reads hold every event recorded so far.
    await writer.flush();
    return pruneAudit(
      {
        store: deps.store,
        record: (detail) => admin('audit.prune', { detail: { before: detail.before, anchors: detail.anchors.map((a) => ({ ...a })) } }),
      },
      at.toISOString(),
    );
  }

  return {
    record,
    admin,
    list,
    prune,
    verify,
    flush: (): Promise<void> => writer.flush(),
    /** Writes this process's checkpoint now (it is otherwise written on a timer). */
    checkpoint: async (): Promise<void> => {
      await writer.flush();
      await checkpointer?.flush();
    },
    /** At shutdown: everything queued is written, then the final checkpoint. */
    close: async (): Promise<void> => {
      await writer.flush();
      await checkpointer?.stop();
    },
    chainId: writer.chainId,
  };
}

export type AuditLog = ReturnType<typeof auditLog>;
