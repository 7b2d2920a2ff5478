import type { Db } from './dialect.js';

export interface OperatorRow {
  id: string;
  name: string;
  role: string;
  passwordHash: string | null;
  createdAt: string;
  updatedAt: string;
}

export function operatorStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: OperatorRow): Promise<void> {
      await k.insertInto('operators').values(row).execute();
    },
    async list(): Promise<OperatorRow[]> {
      return k.selectFrom('operators').selectAll().orderBy('name').execute();
    },
    async findByName(name: string): Promise<OperatorRow | undefined> {
      return k.selectFrom('operators').selectAll().where('name', '=', name).executeTakeFirst();
    },
    async findById(id: string): Promise<OperatorRow | undefined> {
      return k.selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async update(id: string, patch: Partial<Pick<OperatorRow, 'role' | 'passwordHash'>> & { updatedAt: string }): Promise<void> {
      await k.updateTable('operators').set(patch).where('id', '=', id).execute();
    },
    /** Count of operators holding the role (to refuse removing or demoting the last admin). */
    async countWithRole(role: string): Promise<number> {
      const r = await k.selectFrom('operators').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', role).executeTakeFirstOrThrow();
      return Number(r.n);
    },
    /** Returns whether a row was deleted; sessions, links and keys go with it (ON DELETE CASCADE). */
    async remove(id: string): Promise<boolean> {
      const r = await k.deleteFrom('operators').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}

export type OperatorStore = ReturnType<typeof operatorStore>;
