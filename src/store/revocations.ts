import type { Db } from './dialect.js';
import { keysetPage, type Keyset } from './keyset.js';
import type { RevocationsTable } from './schema.js';

export type RevocationStatus = 'pending' | 'revoked' | 'failed';
export type RevocationRow = Omit<RevocationsTable, 'status'> & { status: RevocationStatus };

function decode(r: RevocationsTable): RevocationRow {
  return { ...r, status: r.status as RevocationStatus, attempts: Number(r.attempts) };
}

/** Owner of revocations: durable RFC 7009 jobs, claimed like webhook deliveries so one replica sends each. */
export function revocationStore(db: Db) {
  const k = db.kysely;
  /** A finished job forgets its token and client: nothing is kept for a grant that is gone or given up on. */
  async function finish(id: string, owner: string, change: Partial<RevocationsTable>): Promise<void> {
    await k
      .updateTable('revocations')
      .set({ ...change, token: null, client: null, claimOwner: null, claimUntil: null })
      .where('id', '=', id)
      .where('claimOwner', '=', owner)
      .execute();
  }
  return {
    async insert(row: RevocationRow): Promise<void> {
      await k.insertInto('revocations').values(row).execute();
    },
    async findById(id: string): Promise<RevocationRow | undefined> {
      const r = await k.selectFrom('revocations').selectAll().where('id', '=', id).executeTakeFirst();
      return r === undefined ? undefined : decode(r);
    },
    /** Newest first (ties by id, descending); one keyset page (the first 500 without `page`). */
    async list(filter: { status?: string } = {}, page: Keyset = { limit: 500 }): Promise<RevocationRow[]> {
      let q = k.selectFrom('revocations').selectAll();
      if (filter.status !== undefined) q = q.where('status', '=', filter.status);
      const rows = await keysetPage(q, ['createdAt', 'id'], page, 'desc').execute();
      return rows.map(decode);
    },
    /** Pending jobs whose time has come and that nobody is working on. */
    async due(now: string, limit: number): Promise<RevocationRow[]> {
      const rows = await k
        .selectFrom('revocations')
        .selectAll()
        .where('status', '=', 'pending')
        .where('nextAttemptAt', '<=', now)
        .where((eb) => eb.or([eb('claimUntil', 'is', null), eb('claimUntil', '<=', now)]))
        .orderBy('nextAttemptAt')
        .limit(limit)
        .execute();
      return rows.map(decode);
    },
    async claim(id: string, owner: string, now: string, until: string): Promise<boolean> {
      const result = await k
        .updateTable('revocations')
        .set({ claimOwner: owner, claimUntil: until })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('claimUntil', 'is', null), eb('claimUntil', '<=', now)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async markRevoked(id: string, owner: string, done: { attempts: number; at: string }): Promise<void> {
      await finish(id, owner, { status: 'revoked', attempts: done.attempts, lastError: null, updatedAt: done.at, finishedAt: done.at });
    },
    async markFailed(id: string, owner: string, done: { attempts: number; lastError: string; at: string }): Promise<void> {
      await finish(id, owner, { status: 'failed', attempts: done.attempts, lastError: done.lastError, updatedAt: done.at, finishedAt: done.at });
    },
    async scheduleRetry(id: string, owner: string, retry: { attempts: number; nextAttemptAt: string; lastError: string; updatedAt: string }): Promise<void> {
      await k
        .updateTable('revocations')
        .set({ ...retry, claimOwner: null, claimUntil: null })
        .where('id', '=', id)
        .where('claimOwner', '=', owner)
        .execute();
    },
    /** Forgets finished jobs older than `before`; pending ones stay however old. */
    async pruneFinished(before: string): Promise<number> {
      const result = await k.deleteFrom('revocations').where('status', '!=', 'pending').where('finishedAt', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type RevocationStore = ReturnType<typeof revocationStore>;
