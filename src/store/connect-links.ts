import type { Db } from './dialect.js';
import { fromJson, toJson } from './json.js';
import { keysetPage, type Keyset } from './keyset.js';

/** A connect link; only the hash of its token is stored. */
export interface ConnectLinkRow {
  id: string;
  tokenHash: string;
  providerId: string;
  connectionId: string | null;
  name: string | null;
  subject: string | null;
  environment: string | null;
  scopes: string[] | null;
  requestedBy: { type: string; id: string | null; name: string | null };
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

type Stored = Omit<ConnectLinkRow, 'scopes' | 'requestedBy'> & { scopes: string | null; requestedBy: string };

function fromStored(row: Stored): ConnectLinkRow {
  return {
    ...row,
    scopes: row.scopes === null ? null : fromJson<string[]>(row.scopes, []),
    requestedBy: fromJson<ConnectLinkRow['requestedBy']>(row.requestedBy, { type: 'unknown', id: null, name: null }),
  };
}

export function connectLinkStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: ConnectLinkRow): Promise<void> {
      await k
        .insertInto('connectLinks')
        .values({ ...row, scopes: row.scopes === null ? null : toJson(row.scopes), requestedBy: toJson(row.requestedBy) })
        .execute();
    },
    async findById(id: string): Promise<ConnectLinkRow | undefined> {
      const row = await k.selectFrom('connectLinks').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : fromStored(row);
    },
    async findByTokenHash(tokenHash: string): Promise<ConnectLinkRow | undefined> {
      const row = await k.selectFrom('connectLinks').selectAll().where('tokenHash', '=', tokenHash).executeTakeFirst();
      return row === undefined ? undefined : fromStored(row);
    },
    /** Newest first. */
    async list(page?: Keyset): Promise<ConnectLinkRow[]> {
      const rows = await keysetPage(k.selectFrom('connectLinks').selectAll(), ['createdAt', 'id'], page, 'desc').execute();
      return rows.map(fromStored);
    },
    /**
     * Marks an open, unexpired link used in one conditional update, so only one
     * browser (on any replica) can ever use it.
     */
    async consume(tokenHash: string, now: string): Promise<ConnectLinkRow | undefined> {
      // RETURNING: the row as this update left it, without a second read.
      const row = await k
        .updateTable('connectLinks')
        .set({ usedAt: now })
        .where('tokenHash', '=', tokenHash)
        .where('usedAt', 'is', null)
        .where('expiresAt', '>', now)
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : fromStored(row);
    },
    /** Gives a used link back when its flow could not even start (nothing reached a browser). */
    async release(id: string): Promise<void> {
      await k.updateTable('connectLinks').set({ usedAt: null }).where('id', '=', id).execute();
    },
    /** Forgets links that expired before `before` (used or not); returns how many. */
    async removeExpiredBefore(before: string): Promise<number> {
      const result = await k.deleteFrom('connectLinks').where('expiresAt', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async remove(id: string): Promise<boolean> {
      const result = await k.deleteFrom('connectLinks').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}

export type ConnectLinkStore = ReturnType<typeof connectLinkStore>;
