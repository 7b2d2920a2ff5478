import type { Db } from './dialect.js';
import type { OperatorRow } from './operators.js';

export interface OperatorKeyRow {
  id: string;
  operatorId: string;
  keyHash: string;
  role: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export function operatorKeyStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: OperatorKeyRow): Promise<void> {
      await k.insertInto('operatorKeys').values(row).execute();
    },
    async listForOperator(operatorId: string): Promise<OperatorKeyRow[]> {
      return k.selectFrom('operatorKeys').selectAll().where('operatorId', '=', operatorId).orderBy('createdAt').execute();
    },
    /** The key with this hash and its operator, in one query. */
    async findByHash(keyHash: string): Promise<{ key: OperatorKeyRow; operator: OperatorRow } | undefined> {
      const r = await k
        .selectFrom('operatorKeys')
        .innerJoin('operators', 'operators.id', 'operatorKeys.operatorId')
        .select([
          'operatorKeys.id as keyId',
          'operatorKeys.keyHash as keyHash',
          'operatorKeys.role as keyRole',
          'operatorKeys.createdAt as keyCreatedAt',
          'operatorKeys.lastUsedAt as keyLastUsedAt',
          'operators.id as operatorId',
          'operators.name as name',
          'operators.role as role',
          'operators.passwordHash as passwordHash',
          'operators.createdAt as createdAt',
          'operators.updatedAt as updatedAt',
        ])
        .where('operatorKeys.keyHash', '=', keyHash)
        .executeTakeFirst();
      if (r === undefined) return undefined;
      return {
        key: { id: r.keyId, operatorId: r.operatorId, keyHash: r.keyHash, role: r.keyRole, createdAt: r.keyCreatedAt, lastUsedAt: r.keyLastUsedAt },
        operator: { id: r.operatorId, name: r.name, role: r.role, passwordHash: r.passwordHash, createdAt: r.createdAt, updatedAt: r.updatedAt },
      };
    },
    async touch(id: string, lastUsedAt: string): Promise<void> {
      await k.updateTable('operatorKeys').set({ lastUsedAt }).where('id', '=', id).execute();
    },
    async remove(operatorId: string, keyId: string): Promise<boolean> {
      const r = await k.deleteFrom('operatorKeys').where('operatorId', '=', operatorId).where('id', '=', keyId).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}

export type OperatorKeyStore = ReturnType<typeof operatorKeyStore>;
