import type { Db } from './dialect.js';

export interface OperatorSignInLinkRow {
  tokenHash: string;
  operatorId: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

export function operatorSignInLinkStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: OperatorSignInLinkRow): Promise<void> {
      await k.insertInto('operatorSignInLinks').values(row).execute();
    },
    /**
     * Marks the link used if it is unused and unexpired, and returns its operator: one
     * conditional update, so two replicas racing on one token cannot both win.
     */
    async consume(tokenHash: string, now: string): Promise<string | undefined> {
      const r = await k
        .updateTable('operatorSignInLinks')
        .set({ usedAt: now })
        .where('tokenHash', '=', tokenHash)
        .where('usedAt', 'is', null)
        .where('expiresAt', '>', now)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return undefined;
      const row = await k.selectFrom('operatorSignInLinks').select('operatorId').where('tokenHash', '=', tokenHash).executeTakeFirst();
      return row?.operatorId;
    },
    /** Drops the operator's unused links (after a password change, a link made before it must not sign in). */
    async removeUnusedForOperator(operatorId: string): Promise<number> {
      const r = await k.deleteFrom('operatorSignInLinks').where('operatorId', '=', operatorId).where('usedAt', 'is', null).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async pruneExpired(now: string): Promise<number> {
      const r = await k.deleteFrom('operatorSignInLinks').where('expiresAt', '<=', now).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type OperatorSignInLinkStore = ReturnType<typeof operatorSignInLinkStore>;
