import type { Db } from './dialect.js';
import { fromJson, toJson } from './json.js';

/** One pending authorization request; `secrets` is sealed (code verifier and nonce). */
export interface OAuthStateRow {
  /** SHA-256 (hex) of the state parameter. */
  id: string;
  connectionId: string;
  providerId: string;
  secrets: string;
  scopes: string[];
  redirectUri: string;
  returnTo: string | null;
  expiresAt: string;
  createdAt: string;
  /** SHA-256 (hex) of the start link's token; null when the flow is not bound to a browser. */
  startId: string | null;
  /** SHA-256 (hex) of the cookie set by the start page; null until a browser opened it. */
  browserBinding: string | null;
  /** The connect link this request was started from, or null. */
  connectLinkId: string | null;
}

export function oauthStateStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: OAuthStateRow): Promise<void> {
      await k
        .insertInto('oauthStates')
        .values({ ...row, scopes: toJson(row.scopes) })
        .execute();
    },
    /**
     * Reads and deletes the row in one step that only one caller can win, so a
     * state is good for exactly one callback even across replicas.
     */
    async consume(id: string): Promise<OAuthStateRow | undefined> {
      const row = await k.selectFrom('oauthStates').selectAll().where('id', '=', id).executeTakeFirst();
      if (row === undefined) return undefined;
      const result = await k.deleteFrom('oauthStates').where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) !== 1) return undefined;
      return { ...row, scopes: fromJson<string[]>(row.scopes, []) };
    },
    /**
     * Binds the request to the first browser that opens its start link: one
     * conditional update, so a second browser (or replica) cannot win too.
     */
    async bindBrowser(startId: string, browserBinding: string, now: string): Promise<OAuthStateRow | undefined> {
      const result = await k
        .updateTable('oauthStates')
        .set({ browserBinding })
        .where('startId', '=', startId)
        .where('browserBinding', 'is', null)
        .where('expiresAt', '>', now)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return undefined;
      const row = await k.selectFrom('oauthStates').selectAll().where('startId', '=', startId).executeTakeFirst();
      return row === undefined ? undefined : { ...row, scopes: fromJson<string[]>(row.scopes, []) };
    },
    /** Drops requests nobody completed; returns how many. */
    async removeExpired(now: string): Promise<number> {
      const result = await k.deleteFrom('oauthStates').where('expiresAt', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type OAuthStateStore = ReturnType<typeof oauthStateStore>;
