import type { Db } from './dialect.js';
import { keysetPage, type Keyset } from './keyset.js';
import type { Json } from './json.js';
import { fromJson, toJson } from './json.js';
import type { ConnectionsTable } from './schema.js';

/** A connection row with JSON decoded; `tokens` stays sealed. */
export interface ConnectionRow {
  id: string;
  name: string;
  providerId: string;
  subject: string | null;
  environment: string;
  grantType: string;
  status: string;
  scopes: string[];
  tokenType: string | null;
  tokens: string | null;
  expiresAt: string | null;
  refreshTokenExpiresAt: string | null;
  lastRefreshedAt: string | null;
  lastUsedAt: string | null;
  lastError: string | null;
  metadata: Record<string, Json>;
  /** The connection's own API base URL (from a token response); null: the provider's. */
  apiBaseUrl: string | null;
  /** The provider client that minted the grant; null: the provider's default client. */
  providerClientId: string | null;
  version: number;
  refreshClaimOwner: string | null;
  refreshClaimUntil: string | null;
  /** Bumped on every claim; with the owner it fences the holder's writes. */
  refreshClaimGeneration: number;
  /** The provider has been seen rotating this connection's refresh token. */
  refreshTokenRotates: boolean;
  refreshIntent: string | null;
  failureCount: number;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ConnectionFilter {
  providerId?: string;
  environment?: string;
  status?: string;
  subject?: string;
  /** Only connections whose access token expires at or before this ISO time. */
  expiresBefore?: string;
}

/** Columns a caller may change through `update`; token columns go through saveTokens. */
export type ConnectionPatch = Partial<
  Pick<
    ConnectionRow,
    | 'status'
    | 'lastError'
    | 'lastUsedAt'
    | 'metadata'
    | 'subject'
    | 'scopes'
    | 'refreshClaimOwner'
    | 'refreshClaimUntil'
    | 'refreshIntent'
    | 'failureCount'
    | 'nextAttemptAt'
    | 'refreshTokenExpiresAt'
  >
>;

/** The token columns written together, and only together. */
export interface TokenWrite {
  tokens: string | null;
  tokenType: string | null;
  expiresAt: string | null;
  refreshTokenExpiresAt?: string | null;
  scopes?: string[];
  status?: string;
  lastRefreshedAt?: string | null;
  lastError?: string | null;
  grantType?: string;
  /** Written with the tokens it came with; left as it is when undefined. */
  apiBaseUrl?: string | null;
  /** The client that minted these tokens (a consent flow: null, the default); left as it is when undefined. */
  providerClientId?: string | null;
  /** Set once the provider is seen rotating the refresh token; never cleared by a token write. */
  refreshTokenRotates?: true;
}

/**
 * What the row must still be for a token write to commit, in the same
 * statement: a consent flow only completes the connection it was started for.
 */
export interface TokenWriteGuard {
  /** The row's status must be one of these. */
  statuses?: readonly string[];
  /** The row must never have held a grant (no tokens). */
  neverGranted?: boolean;
}

/** A TokenWrite as columns. */
function encodeWrite(write: TokenWrite): Partial<Omit<ConnectionsTable, 'id'>> {
  const { scopes, refreshTokenRotates, ...rest } = write;
  return {
    ...rest,
    ...(scopes === undefined ? {} : { scopes: toJson(scopes) }),
    ...(refreshTokenRotates === true ? { refreshTokenRotates: 1 } : {}),
  };
}

function decode(r: ConnectionsTable): ConnectionRow {
  return {
    ...r,
    scopes: fromJson<string[]>(r.scopes, []),
    metadata: fromJson<Record<string, Json>>(r.metadata, {}),
    version: Number(r.version),
    failureCount: Number(r.failureCount),
    refreshClaimGeneration: Number(r.refreshClaimGeneration),
    refreshTokenRotates: Number(r.refreshTokenRotates) === 1,
  };
}

/** A new row: version and failure count start at 0; the fence columns default. */
export type NewConnectionRow = Omit<
  ConnectionRow,
  'version' | 'failureCount' | 'refreshClaimGeneration' | 'refreshTokenRotates' | 'providerClientId'
> &
  Partial<Pick<ConnectionRow, 'refreshClaimGeneration' | 'refreshTokenRotates' | 'providerClientId'>>;

/** Who holds a refresh claim: the owner and the generation its claim got. */
export interface ClaimFence {
  owner: string;
  generation: number;
}

function encodePatch(patch: ConnectionPatch): Partial<Omit<ConnectionsTable, 'id'>> {
  const { scopes, metadata, ...rest } = patch;
  return {
    ...rest,
    ...(scopes === undefined ? {} : { scopes: toJson(scopes) }),
    ...(metadata === undefined ? {} : { metadata: toJson(metadata) }),
  };
}

export function connectionStore(db: Db) {
  const k = db.kysely;

  /** Writes token columns (and `also`) only if the row still has `expectedVersion`; bumps the version. */
  async function compareAndSetTokens(
    id: string,
    expectedVersion: number,
    write: TokenWrite,
    also: Partial<Pick<ConnectionsTable, 'refreshClaimOwner' | 'refreshClaimUntil' | 'refreshIntent' | 'failureCount' | 'nextAttemptAt'>>,
    updatedAt: string,
    fence?: ClaimFence,
    guard?: TokenWriteGuard,
  ): Promise<boolean> {
    let q = k
      .updateTable('connections')
      .set((eb) => ({
        ...encodeWrite(write),
        ...also,
        version: eb('version', '+', 1),
        updatedAt,
      }))
      .where('id', '=', id)
      .where('version', '=', expectedVersion);
    if (fence !== undefined) {
      q = q.where('refreshClaimOwner', '=', fence.owner).where('refreshClaimGeneration', '=', fence.generation);
    }
    if (guard?.statuses !== undefined) q = q.where('status', 'in', [...guard.statuses]);
    if (guard?.neverGranted === true) q = q.where('tokens', 'is', null);
    const result = await q.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
  return {
    /** `providerClientId` left out: the provider's default client. */
    async insert(row: NewConnectionRow): Promise<void> {
      await k
        .insertInto('connections')
        .values({
          ...row,
          providerClientId: row.providerClientId ?? null,
          refreshClaimGeneration: row.refreshClaimGeneration ?? 0,
          scopes: toJson(row.scopes),
          metadata: toJson(row.metadata),
          version: 0,
          failureCount: 0,
          refreshTokenRotates: row.refreshTokenRotates ? 1 : 0,
        })
        .execute();
    },
    async findById(id: string): Promise<ConnectionRow | undefined> {
      const r = await k.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
      return r === undefined ? undefined : decode(r);
    },
    async findByName(name: string): Promise<ConnectionRow | undefined> {
      const r = await k.selectFrom('connections').selectAll().where('name', '=', name).executeTakeFirst();
      return r === undefined ? undefined : decode(r);
    },
    /** By name; with `page`, one keyset page of them (every filter is a condition an index of 0020 serves). */
    async list(filter: ConnectionFilter = {}, page?: Keyset): Promise<ConnectionRow[]> {
      let q = k.selectFrom('connections').selectAll();
      if (filter.providerId !== undefined) q = q.where('providerId', '=', filter.providerId);
      if (filter.environment !== undefined) q = q.where('environment', '=', filter.environment);
      if (filter.status !== undefined) q = q.where('status', '=', filter.status);
      if (filter.subject !== undefined) q = q.where('subject', '=', filter.subject);
      if (filter.expiresBefore !== undefined) {
        q = q.where('expiresAt', 'is not', null).where('expiresAt', '<=', filter.expiresBefore);
      }
      const rows = await keysetPage(q, ['name'], page).execute();
      return rows.map(decode);
    },
    /** Connection counts per status, for /metrics. */
    async countByStatus(): Promise<Record<string, number>> {
      const rows = await k
        .selectFrom('connections')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('status')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
    async countByProvider(providerId: string): Promise<number> {
      const row = await k
        .selectFrom('connections')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('providerId', '=', providerId)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    /** Connections per client of a provider (key null: its default client). */
    async countByProviderClient(providerId: string): Promise<Map<string | null, number>> {
      const rows = await k
        .selectFrom('connections')
        .select(['providerClientId', (eb) => eb.fn.countAll<number>().as('n')])
        .where('providerId', '=', providerId)
        .groupBy('providerClientId')
        .execute();
      return new Map(rows.map((r) => [r.providerClientId, Number(r.n)]));
    },
    async update(id: string, patch: ConnectionPatch, updatedAt: string): Promise<void> {
      await k
        .updateTable('connections')
        .set({ ...encodePatch(patch), updatedAt })
        .where('id', '=', id)
        .execute();
    },
    /**
     * Writes new tokens only if the row still has `expectedVersion`, so a slow
     * writer never overwrites a newer token. Returns whether it committed.
     */
    async saveTokens(id: string, expectedVersion: number, write: TokenWrite, updatedAt: string, guard?: TokenWriteGuard): Promise<boolean> {
      return compareAndSetTokens(id, expectedVersion, write, {}, updatedAt, undefined, guard);
    },
    /**
     * Takes the refresh claim if nobody holds it or the holder's lease ran out
     * (a crashed replica), bumping the generation. One conditional update: on
     * PostgreSQL a concurrent update waits for the row lock and re-checks the
     * condition; SQLite has a single writer. Either way exactly one caller sees
     * a changed row. Returns the generation it got, or undefined.
     *
     * With `unauthorizedCooldownSince` (a refresh an upstream 401 asks for), it is
     * taken only if no 401 started a refresh since then, and stamps the cooldown
     * in the same statement, so the cooldown holds across replicas.
     */
    async claimRefresh(
      id: string,
      owner: string,
      now: string,
      until: string,
      unauthorizedCooldownSince?: string,
    ): Promise<ClaimFence | undefined> {
      let q = k
        .updateTable('connections')
        .set((eb) => ({
          refreshClaimOwner: owner,
          refreshClaimUntil: until,
          refreshClaimGeneration: eb('refreshClaimGeneration', '+', 1),
          ...(unauthorizedCooldownSince === undefined ? {} : { unauthorizedRefreshAt: now }),
        }))
        .where('id', '=', id)
        .where((eb) => eb.or([eb('refreshClaimUntil', 'is', null), eb('refreshClaimUntil', '<=', now)]));
      if (unauthorizedCooldownSince !== undefined) {
        q = q.where((eb) => eb.or([eb('unauthorizedRefreshAt', 'is', null), eb('unauthorizedRefreshAt', '<=', unauthorizedCooldownSince)]));
      }
      const row = await q.returning('refreshClaimGeneration').executeTakeFirst();
      return row === undefined ? undefined : { owner, generation: Number(row.refreshClaimGeneration) };
    },
    /** The holder's heartbeat: extends the lease only while owner and generation are still its own. */
    async renewClaim(id: string, fence: ClaimFence, until: string): Promise<boolean> {
      const result = await k
        .updateTable('connections')
        .set({ refreshClaimUntil: until })
        .where('id', '=', id)
        .where('refreshClaimOwner', '=', fence.owner)
        .where('refreshClaimGeneration', '=', fence.generation)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** Lets go of the claim and the intent: the provider refused the client, so the refresh token was not used. */
    async releaseClaimUnused(id: string, owner: string): Promise<void> {
      await k
        .updateTable('connections')
        .set({ refreshClaimOwner: null, refreshClaimUntil: null, refreshIntent: null })
        .where('id', '=', id)
        .where('refreshClaimOwner', '=', owner)
        .execute();
    },
    /** Records, while holding the claim, which refresh token is about to be sent (JSON, see tokens/intent.ts). */
    async recordRefreshIntent(id: string, fence: ClaimFence, intent: string): Promise<boolean> {
      const result = await k
        .updateTable('connections')
        .set({ refreshIntent: intent })
        .where('id', '=', id)
        .where('refreshClaimOwner', '=', fence.owner)
        .where('refreshClaimGeneration', '=', fence.generation)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async releaseClaim(id: string, owner: string): Promise<void> {
      await k
        .updateTable('connections')
        .set({ refreshClaimOwner: null, refreshClaimUntil: null })
        .where('id', '=', id)
        .where('refreshClaimOwner', '=', owner)
        .execute();
    },
    /**
     * Stores a rotated refresh token the moment its answer arrives, before the
     * rest of the answer is checked: only the sealed token column, against the
     * version read and the intent this refresher wrote (nobody has sent since).
     */
    async saveRotatedRefreshToken(id: string, expectedVersion: number, intent: string, tokens: string, updatedAt: string): Promise<boolean> {
      const result = await k
        .updateTable('connections')
        .set({ tokens, refreshTokenRotates: 1, updatedAt })
        .where('id', '=', id)
        .where('version', '=', expectedVersion)
        .where('refreshIntent', '=', intent)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /**
     * Commits an answer whose claim has lapsed (a late answer, a spilled one
     * replayed after an outage or a restart): allowed while the version is
     * unchanged and the intent is still this refresher's, i.e. nobody has sent
     * a refresh token since. Leaves the claim columns to whoever holds them.
     */
    async saveAnsweredTokens(id: string, expectedVersion: number, intent: string, write: TokenWrite, updatedAt: string): Promise<boolean> {
      const result = await k
        .updateTable('connections')
        .set((eb) => ({
          status: 'active',
          lastError: null,
          ...encodeWrite(write),
          refreshIntent: null,
          failureCount: 0,
          nextAttemptAt: null,
          version: eb('version', '+', 1),
          updatedAt,
        }))
        .where('id', '=', id)
        .where('version', '=', expectedVersion)
        .where('refreshIntent', '=', intent)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /**
     * Commits a refresh: access and (rotated) refresh token in one sealed
     * column, one statement, against the version the refresher read and its
     * claim (owner and generation: the fence), and clears the claim, the
     * intent and the failure count with it.
     */
    async saveRefreshedTokens(
      id: string,
      expectedVersion: number,
      fence: ClaimFence,
      write: TokenWrite,
      updatedAt: string,
    ): Promise<boolean> {
      const cleared = { refreshClaimOwner: null, refreshClaimUntil: null, refreshIntent: null, failureCount: 0, nextAttemptAt: null };
      return compareAndSetTokens(id, expectedVersion, { status: 'active', lastError: null, ...write }, cleared, updatedAt, fence);
    },
    /** A failed refresh (outage or refusal): counts it, schedules the next try and lets go of the claim. */
    async recordRefreshFailure(
      id: string,
      owner: string,
      failure: { failureCount: number; nextAttemptAt: string; lastError: string; keepIntent: boolean },
      updatedAt: string,
    ): Promise<void> {
      await k
        .updateTable('connections')
        .set({
          failureCount: failure.failureCount,
          nextAttemptAt: failure.nextAttemptAt,
          lastError: failure.lastError,
          refreshClaimOwner: null,
          refreshClaimUntil: null,
          ...(failure.keepIntent ? {} : { refreshIntent: null }),
          updatedAt,
        })
        .where('id', '=', id)
        .where('refreshClaimOwner', '=', owner)
        .execute();
    },
    /**
     * The provider refused the grant: nothing more to try until a person
     * reconnects. `keepIntent` (a rotation lost in an unanswered request)
     * leaves the intent, so that answer, if it still turns up, may commit.
     */
    async markNeedsReauth(id: string, owner: string, lastError: string, updatedAt: string, keepIntent = false): Promise<boolean> {
      const result = await k
        .updateTable('connections')
        .set({
          status: 'needs_reauth',
          lastError,
          refreshClaimOwner: null,
          refreshClaimUntil: null,
          ...(keepIntent ? {} : { refreshIntent: null }),
          nextAttemptAt: null,
          updatedAt,
        })
        .where('id', '=', id)
        .where('refreshClaimOwner', '=', owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /**
     * Active connections whose access token expires at or before `before`,
     * that are not backing off and not claimed, soonest first.
     */
    async listExpiring(before: string, now: string, limit: number): Promise<ConnectionRow[]> {
      const rows = await k
        .selectFrom('connections')
        .selectAll()
        .where('status', '=', 'active')
        .where('expiresAt', 'is not', null)
        .where('expiresAt', '<=', before)
        .where((eb) => eb.or([eb('nextAttemptAt', 'is', null), eb('nextAttemptAt', '<=', now)]))
        .where((eb) => eb.or([eb('refreshClaimUntil', 'is', null), eb('refreshClaimUntil', '<=', now)]))
        .orderBy('expiresAt')
        .limit(limit)
        .execute();
      return rows.map(decode);
    },
    /** Active connections whose refresh token itself expires at or before `before` (for connection.expiring). */
    async listRefreshTokenExpiring(before: string, limit: number): Promise<ConnectionRow[]> {
      const rows = await k
        .selectFrom('connections')
        .selectAll()
        .where('status', '=', 'active')
        .where('refreshTokenExpiresAt', 'is not', null)
        .where('refreshTokenExpiresAt', '<=', before)
        .orderBy('refreshTokenExpiresAt')
        .limit(limit)
        .execute();
      return rows.map(decode);
    },
    async remove(id: string): Promise<void> {
      await k.deleteFrom('connections').where('id', '=', id).execute();
    },
    async removeByProvider(providerId: string): Promise<void> {
      await k.deleteFrom('connections').where('providerId', '=', providerId).execute();
    },
  };
}

export type ConnectionStore = ReturnType<typeof connectionStore>;
