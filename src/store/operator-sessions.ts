import type { Db } from './dialect.js';
import type { OperatorRow } from './operators.js';

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
    /** The session with this id hash and its operator, in one query: every console request resumes its session. */
    async find(idHash: string): Promise<{ session: OperatorSessionRow; operator: OperatorRow } | undefined> {
      const r = await k
        .selectFrom('operatorSessions')
        .innerJoin('operators', 'operators.id', 'operatorSessions.operatorId')
        .select([
          'operatorSessions.idHash as idHash',
          'operatorSessions.operatorId as operatorId',
          'operatorSessions.createdAt as sessionCreatedAt',
          'operatorSessions.lastSeenAt as lastSeenAt',
          'operatorSessions.expiresAt as expiresAt',
          'operators.name as name',
          'operators.role as role',
          'operators.passwordHash as passwordHash',
          'operators.createdAt as createdAt',
          'operators.updatedAt as updatedAt',
        ])
        .where('operatorSessions.idHash', '=', idHash)
        .executeTakeFirst();
      if (r === undefined) return undefined;
      return {
        session: { idHash: r.idHash, operatorId: r.operatorId, createdAt: r.sessionCreatedAt, lastSeenAt: r.lastSeenAt, expiresAt: r.expiresAt },
        operator: { id: r.operatorId, name: r.name, role: r.role, passwordHash: r.passwordHash, createdAt: r.createdAt, updatedAt: r.updatedAt },
      };
    },
    async touch(idHash: string, lastSeenAt: string): Promise<void> {
      await k.updateTable('operatorSessions').set({ lastSeenAt }).where('idHash', '=', idHash).execute();
    },
    async remove(idHash: string): Promise<boolean> {
      const r = await k.deleteFrom('operatorSessions').where('idHash', '=', idHash).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    /** Ends every session of an operator (a password change: whoever knew the old one is signed out). */
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
