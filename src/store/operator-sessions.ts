import type { Db } from './dialect.js';

export interface OperatorSessionRow {
  idHash: string;
  operatorId: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

export function operatorSessionStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: OperatorSessionRow): Promise<void> {
      await k.insertInto('operatorSessions').values(row).execute();
    },
    async find(idHash: string): Promise<OperatorSessionRow | undefined> {
      return k.selectFrom('operatorSessions').selectAll().where('idHash', '=', idHash).executeTakeFirst();
    },
    async touch(idHash: string, lastSeenAt: string): Promise<void> {
      await k.updateTable('operatorSessions').set({ lastSeenAt }).where('idHash', '=', idHash).execute();
    },
    async remove(idHash: string): Promise<boolean> {
      const r = await k.deleteFrom('operatorSessions').where('idHash', '=', idHash).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    /** Ends every session of an operator (password or role change, removal). */
    async removeForOperator(operatorId: string): Promise<number> {
      const r = await k.deleteFrom('operatorSessions').where('operatorId', '=', operatorId).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    /** Sessions past their absolute end or idle since before `idleBefore`. */
    async pruneExpired(now: string, idleBefore: string): Promise<number> {
      const r = await k
        .deleteFrom('operatorSessions')
        .where((eb) => eb.or([eb('expiresAt', '<=', now), eb('lastSeenAt', '<=', idleBefore)]))
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type OperatorSessionStore = ReturnType<typeof operatorSessionStore>;
