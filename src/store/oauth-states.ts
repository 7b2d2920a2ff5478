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
    /** Drops requests nobody completed; returns how many. */
    async removeExpired(now: string): Promise<number> {
      const result = await k.deleteFrom('oauthStates').where('expiresAt', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type OAuthStateStore = ReturnType<typeof oauthStateStore>;
