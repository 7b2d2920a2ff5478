import { sql } from 'kysely';
import type { Db } from './dialect.js';
import { tableExists } from './dialect.js';

/** Owner of keyring_keys; implements crypto's KeyringStore without importing it. */
export interface StoredKeyRow {
  id: string;
  wrappedKey: string;
  status: 'active' | 'decrypt_only' | 'retired';
  createdAt: string;
  sealsReserved: number;
}

export function keyStore(db: Db) {
  const k = db.kysely;
  return {
    async listKeys(): Promise<StoredKeyRow[]> {
      const rows = await k.selectFrom('keyringKeys').selectAll().orderBy('createdAt').execute();
      return rows.map((r) => ({ ...r, status: r.status as StoredKeyRow['status'], sealsReserved: Number(r.sealsReserved) }));
    },
    async insertActiveKey(key: StoredKeyRow): Promise<void> {
      await k.transaction().execute(async (tx) => {
        await tx.updateTable('keyringKeys').set({ status: 'decrypt_only' }).where('status', '=', 'active').execute();
        await tx.insertInto('keyringKeys').values(key).execute();
      });
    },
    /** Reserves seals only while the key is still the active one; undefined once it is not. */
    async reserveSeals(id: string, count: number): Promise<number | undefined> {
      const row = await k
        .updateTable('keyringKeys')
        .set({ sealsReserved: sql<number>`seals_reserved + ${count}` })
        .where('id', '=', id)
        .where('status', '=', 'active')
        .returning('sealsReserved')
        .executeTakeFirst();
      return row === undefined ? undefined : Number(row.sealsReserved);
    },
    async activeKeyId(): Promise<string | undefined> {
      const row = await k.selectFrom('keyringKeys').select('id').where('status', '=', 'active').executeTakeFirst();
      return row?.id;
    },
    async setKeyStatus(id: string, status: StoredKeyRow['status']): Promise<void> {
      await k.updateTable('keyringKeys').set({ status }).where('id', '=', id).execute();
    },
    /** Whether the database already has keys, read without creating anything. */
    async hasKeys(): Promise<boolean> {
      if (!(await tableExists(db, 'keyring_keys'))) return false;
      const row = await k.selectFrom('keyringKeys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      return Number(row?.n ?? 0) > 0;
    },
  };
}
