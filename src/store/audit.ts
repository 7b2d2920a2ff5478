import type BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { containsText, isUnavailable, storableText, type Db } from './dialect.js';
import type { AuditBlocksTable, AuditChainsTable, AuditEventsTable } from './schema.js';

/** A chain written before 0005, one row per event: read and verified, no longer written. */
export type AuditEventRow = AuditEventsTable;
export type AuditBlockRow = AuditBlocksTable;
export type AuditChainRow = AuditChainsTable;
/** What a writing process keeps of its chain's head; the anchor columns belong to prunes. */
export type AuditChainHead = Pick<AuditChainRow, 'id' | 'startedAt' | 'lastSeq' | 'lastHash' | 'lastBlock'>;

export interface AuditFilter {
  actorId?: string;
  actorName?: string;
  connection?: string;
  action?: string;
  since?: string;
  /** Only events after this one in newest-first order (a page's keyset). */
  before?: AuditPosition;
  limit: number;
}

/** Where an event sits in the newest-first order of the audit list. */
export interface AuditPosition {
  at: string;
  chainId: string;
  seq: number;
}

function decodeEvent(r: AuditEventsTable): AuditEventRow {
  return { ...r, seq: Number(r.seq), status: r.status === null ? null : Number(r.status) };
}

// pg returns bigint columns as strings.
function decodeBlock(r: AuditBlocksTable): AuditBlockRow {
  return { ...r, block: Number(r.block), firstSeq: Number(r.firstSeq), lastSeq: Number(r.lastSeq) };
}

function decodeChain(r: AuditChainsTable): AuditChainRow {
  return { ...r, lastSeq: Number(r.lastSeq), lastBlock: Number(r.lastBlock), anchorBlock: Number(r.anchorBlock), anchorSeq: Number(r.anchorSeq) };
}

/**
 * The same transaction as the Kysely path, on prepared better-sqlite3
 * statements: a block is written for every group commit, and through Kysely
 * each cost four compiled queries and a dozen promise hops.
 */
function sqliteAppender(database: BetterSqlite3.Database): (chain: AuditChainHead, block: AuditBlockRow) => void {
  const insert = database.prepare(
    'insert into audit_blocks (chain_id, block, first_seq, last_seq, first_at, last_at, events, search_keys, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const moveHead = database.prepare('update audit_chains set last_seq = ?, last_hash = ?, last_block = ? where id = ?');
  const insertHead = database.prepare('insert into audit_chains (id, started_at, last_seq, last_hash, last_block) values (?, ?, ?, ?, ?)');
  return database.transaction((chain: AuditChainHead, b: AuditBlockRow) => {
    insert.run(b.chainId, b.block, b.firstSeq, b.lastSeq, b.firstAt, b.lastAt, b.events, b.searchKeys, b.prevHash, b.hash);
    if (moveHead.run(chain.lastSeq, chain.lastHash, chain.lastBlock, chain.id).changes === 0) {
      insertHead.run(chain.id, chain.startedAt, chain.lastSeq, chain.lastHash, chain.lastBlock);
    }
  });
}

/** Where a chain starts after a prune (see AuditChainsTable). */
export interface AuditAnchor {
  chainId: string;
  block: number;
  seq: number;
  hash: string;
}

export function auditStore(db: Db) {
  const k = db.kysely;
  // Prepared on first use: the store is built before migrations create the tables.
  let appendSqlite: ((chain: AuditChainHead, block: AuditBlockRow) => void) | undefined;
  return {
    /** Whether an append failed because the database is unavailable, rather than refusing these rows. */
    isUnavailable,

    /** Appends a block and moves the chain head in one transaction: all of it or none of it. */
    async appendBlock(chain: AuditChainHead, block: AuditBlockRow): Promise<void> {
      if (db.sqlite !== undefined) {
        const sqlite = db.sqlite;
        appendSqlite ??= sqliteAppender(sqlite);
        const append = appendSqlite;
        // better-sqlite3 is synchronous: with no transaction open on the connection, this one
        // commits before any other code runs. Inside a Kysely transaction (open across awaits) it
        // would join it, and a rollback would take committed events with it: wait for the connection.
        if (!sqlite.inTransaction) append(chain, block);
        else await k.connection().execute(async () => append(chain, block));
        return;
      }
      await k.transaction().execute(async (tx) => {
        await tx.insertInto('auditBlocks').values(block).execute();
        const moved = await tx
          .updateTable('auditChains')
          .set({ lastSeq: chain.lastSeq, lastHash: chain.lastHash, lastBlock: chain.lastBlock })
          .where('id', '=', chain.id)
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) === 0) await tx.insertInto('auditChains').values({ ...chain, anchorBlock: 0, anchorSeq: 0 }).execute();
      });
    },

    /**
     * Blocks newest first (by their last event), `limit` at a time from `offset`, optionally only
     * those reaching `since` and those whose search keys hold every one of `keys`.
     */
    /** Blocks newest first by their latest event; `until`: only blocks with an event at or before that time. */
    async recentBlocks(options: { since?: string; until?: string; keys?: string[]; offset: number; limit: number }): Promise<AuditBlockRow[]> {
      let q = k.selectFrom('auditBlocks').selectAll();
      if (options.since !== undefined) q = q.where('lastAt', '>=', options.since);
      if (options.until !== undefined) q = q.where('firstAt', '<=', options.until);
      for (const key of options.keys ?? []) q = q.where(containsText(db, 'search_keys', key));
      const rows = await q.orderBy('lastAt', 'desc').orderBy('chainId').orderBy('block', 'desc').limit(options.limit).offset(options.offset).execute();
      return rows.map(decodeBlock);
    },

    /** One chain's blocks in order, a page at a time. */
    async blockPage(chainId: string, afterBlock: number, limit: number): Promise<AuditBlockRow[]> {
      const rows = await k
        .selectFrom('auditBlocks')
        .selectAll()
        .where('chainId', '=', chainId)
        .where('block', '>', afterBlock)
        .orderBy('block')
        .limit(limit)
        .execute();
      return rows.map(decodeBlock);
    },

    async chains(): Promise<AuditChainRow[]> {
      const rows = await k.selectFrom('auditChains').selectAll().orderBy('startedAt').orderBy('id').execute();
      return rows.map(decodeChain);
    },

    /** Chain ids that have blocks, including any whose head row is gone. */
    async chainIdsWithBlocks(): Promise<string[]> {
      const rows = await k.selectFrom('auditBlocks').select('chainId').distinct().execute();
      return rows.map((r) => r.chainId);
    },

    /** The first block after `afterBlock` whose latest event is at or after `at`: where a prune before `at` stops. */
    async firstBlockReaching(chainId: string, afterBlock: number, at: string): Promise<AuditBlockRow | undefined> {
      const row = await k
        .selectFrom('auditBlocks')
        .selectAll()
        .where('chainId', '=', chainId)
        .where('block', '>', afterBlock)
        .where('lastAt', '>=', at)
        .orderBy('block')
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? undefined : decodeBlock(row);
    },

    async block(chainId: string, block: number): Promise<AuditBlockRow | undefined> {
      const row = await k.selectFrom('auditBlocks').selectAll().where('chainId', '=', chainId).where('block', '=', block).executeTakeFirst();
      return row === undefined ? undefined : decodeBlock(row);
    },

    /**
     * Moves a chain's anchor forward and deletes its blocks (or, for a chain of one row per event,
     * its events) up to it, in one transaction. False when the anchor is already there or further:
     * a concurrent prune reached further, and moving it back would orphan what that one deleted.
     */
    async pruneChain(anchor: AuditAnchor, oneRowPerEvent: boolean): Promise<boolean> {
      return k.transaction().execute(async (tx) => {
        const moved = await tx
          .updateTable('auditChains')
          .set({ anchorBlock: anchor.block, anchorSeq: anchor.seq, anchorHash: anchor.hash })
          .where('id', '=', anchor.chainId)
          .where('anchorSeq', '<', anchor.seq)
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) === 0) return false;
        if (oneRowPerEvent) await tx.deleteFrom('auditEvents').where('chainId', '=', anchor.chainId).where('seq', '<=', anchor.seq).execute();
        else await tx.deleteFrom('auditBlocks').where('chainId', '=', anchor.chainId).where('block', '<=', anchor.block).execute();
        return true;
      });
    },

    // One row per event, as 0004 wrote them.

    async listLegacy(filter: AuditFilter): Promise<AuditEventRow[]> {
      // No stored row can hold a value the database cannot store; asking would be an error.
      if (![filter.actorId, filter.actorName, filter.connection, filter.action].every((v) => storableText(db, v))) return [];
      let q = k.selectFrom('auditEvents').selectAll();
      if (filter.actorId !== undefined && filter.actorName !== undefined) {
        const { actorId, actorName } = filter;
        q = q.where((eb) => eb.or([eb('actorId', '=', actorId), eb('actorName', '=', actorName)]));
      }
      if (filter.connection !== undefined) q = q.where('connection', '=', filter.connection);
      if (filter.action !== undefined) q = q.where('action', '=', filter.action);
      if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
      const before = filter.before;
      if (before !== undefined) q = q.where(sql<boolean>`(${sql.ref('at')}, ${sql.ref('chainId')}, ${sql.ref('seq')}) < (${before.at}, ${before.chainId}, ${before.seq})`);
      // The order of the merged list (audit/log.ts, newestFirst), so `limit` cuts at the same place.
      const rows = await q.orderBy('at', 'desc').orderBy('chainId', 'desc').orderBy('seq', 'desc').limit(filter.limit).execute();
      return rows.map(decodeEvent);
    },

    /** The first event after `afterSeq` at or after `at`, of a chain written one row per event. */
    async firstLegacyReaching(chainId: string, afterSeq: number, at: string): Promise<AuditEventRow | undefined> {
      const row = await k
        .selectFrom('auditEvents')
        .selectAll()
        .where('chainId', '=', chainId)
        .where('seq', '>', afterSeq)
        .where('at', '>=', at)
        .orderBy('seq')
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? undefined : decodeEvent(row);
    },

    async legacyEvent(chainId: string, seq: number): Promise<AuditEventRow | undefined> {
      const row = await k.selectFrom('auditEvents').selectAll().where('chainId', '=', chainId).where('seq', '=', seq).executeTakeFirst();
      return row === undefined ? undefined : decodeEvent(row);
    },

    async chainIdsWithLegacyEvents(): Promise<string[]> {
      const rows = await k.selectFrom('auditEvents').select('chainId').distinct().execute();
      return rows.map((r) => r.chainId);
    },

    async legacyPage(chainId: string, afterSeq: number, limit: number): Promise<AuditEventRow[]> {
      const rows = await k
        .selectFrom('auditEvents')
        .selectAll()
        .where('chainId', '=', chainId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map(decodeEvent);
    },
  };
}

export type AuditStore = ReturnType<typeof auditStore>;
