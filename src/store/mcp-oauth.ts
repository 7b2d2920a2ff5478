import type { Db } from './dialect.js';

/** One stored oidc-provider model: what the adapter writes, with every key already hashed by the caller. */
export interface McpOauthRow {
  model: string;
  idHash: string;
  payload: string;
  grantHash: string | null;
  uidHash: string | null;
  userCodeHash: string | null;
  expiresAt: string | null;
  consumedAt: string | null;
  /** The agent a grant or token was issued for (oidc-provider's accountId); null for other models. */
  accountId: string | null;
}

/** The /mcp authorization server's storage (oidc-provider's adapter verbs, over hashed keys). */
export function mcpOauthStore(db: Db) {
  const k = db.kysely;
  const live = (now: string) => (row: McpOauthRow | undefined): McpOauthRow | undefined =>
    row === undefined || (row.expiresAt !== null && row.expiresAt <= now) ? undefined : row;
  return {
    async upsert(row: McpOauthRow): Promise<void> {
      await k
        .insertInto('mcpOauth')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['model', 'idHash']).doUpdateSet({
            payload: row.payload,
            grantHash: row.grantHash,
            uidHash: row.uidHash,
            userCodeHash: row.userCodeHash,
            expiresAt: row.expiresAt,
            consumedAt: row.consumedAt,
            accountId: row.accountId,
          }),
        )
        .execute();
    },
    /** Inserts the row unless one with its model and id exists; true only for the caller that inserted it (on any replica: the key is unique). */
    async insertOnce(row: McpOauthRow): Promise<boolean> {
      const result = await k
        .insertInto('mcpOauth')
        .values(row)
        .onConflict((oc) => oc.columns(['model', 'idHash']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    },
    async find(model: string, idHash: string, now: string): Promise<McpOauthRow | undefined> {
      return live(now)(await k.selectFrom('mcpOauth').selectAll().where('model', '=', model).where('idHash', '=', idHash).executeTakeFirst());
    },
    /**
     * A grant-bound row (a token) with the live Grant it was issued under, in one query: a token is only good
     * while its grant is, and /mcp checks that on every call, so the check must not cost a second read.
     */
    async findWithGrant(model: string, idHash: string, now: string): Promise<{ row: McpOauthRow; grant: { payload: string; accountId: string | null } | undefined } | undefined> {
      const found = await k
        .selectFrom('mcpOauth as t')
        .leftJoin('mcpOauth as g', (join) =>
          join
            .onRef('g.idHash', '=', 't.grantHash')
            .on('g.model', '=', 'Grant')
            .on((eb) => eb.or([eb('g.expiresAt', 'is', null), eb('g.expiresAt', '>', now)])),
        )
        .selectAll('t')
        .select(['g.payload as grantPayload', 'g.accountId as grantAccountId'])
        .where('t.model', '=', model)
        .where('t.idHash', '=', idHash)
        .executeTakeFirst();
      if (found === undefined) return undefined;
      const { grantPayload, grantAccountId, ...row } = found;
      if (live(now)(row) === undefined) return undefined;
      return { row, grant: grantPayload === null ? undefined : { payload: grantPayload, accountId: grantAccountId } };
    },
    async findByUid(model: string, uidHash: string, now: string): Promise<McpOauthRow | undefined> {
      return live(now)(await k.selectFrom('mcpOauth').selectAll().where('model', '=', model).where('uidHash', '=', uidHash).executeTakeFirst());
    },
    async findByUserCode(model: string, userCodeHash: string, now: string): Promise<McpOauthRow | undefined> {
      return live(now)(
        await k.selectFrom('mcpOauth').selectAll().where('model', '=', model).where('userCodeHash', '=', userCodeHash).executeTakeFirst(),
      );
    },
    /** Marks a code or token used; only the first caller wins, so a code is good for one exchange across replicas. */
    async consume(model: string, idHash: string, at: string): Promise<boolean> {
      const result = await k
        .updateTable('mcpOauth')
        .set({ consumedAt: at })
        .where('model', '=', model)
        .where('idHash', '=', idHash)
        .where('consumedAt', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async destroy(model: string, idHash: string): Promise<void> {
      await k.deleteFrom('mcpOauth').where('model', '=', model).where('idHash', '=', idHash).execute();
    },
    async revokeByGrant(grantHash: string): Promise<void> {
      await k.deleteFrom('mcpOauth').where('grantHash', '=', grantHash).execute();
    },
    /** Ends a grant: the Grant row itself and every code and token issued under it (one statement). Returns how many rows went. */
    async endGrant(grantHash: string): Promise<number> {
      const result = await k
        .deleteFrom('mcpOauth')
        .where((eb) => eb.or([eb('grantHash', '=', grantHash), eb.and([eb('model', '=', 'Grant'), eb('idHash', '=', grantHash)])]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    /** The live rows of one model issued for an agent (its grants, for the operator's list). */
    async listByAccount(model: string, accountId: string, now: string): Promise<McpOauthRow[]> {
      return k
        .selectFrom('mcpOauth')
        .selectAll()
        .where('model', '=', model)
        .where('accountId', '=', accountId)
        .where((eb) => eb.or([eb('expiresAt', 'is', null), eb('expiresAt', '>', now)]))
        .execute();
    },
    /** The most recently issued row of a model under a grant: each new token of a model lives as long as the last, so the latest expiry is the newest. */
    async newestOfGrant(model: string, grantHash: string): Promise<McpOauthRow | undefined> {
      return k.selectFrom('mcpOauth').selectAll().where('grantHash', '=', grantHash).where('model', '=', model).orderBy('expiresAt', 'desc').limit(1).executeTakeFirst();
    },
    /** Drops what has expired; returns how many rows. */
    async removeExpired(now: string): Promise<number> {
      const result = await k.deleteFrom('mcpOauth').where('expiresAt', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type McpOauthStore = ReturnType<typeof mcpOauthStore>;
