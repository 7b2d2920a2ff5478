import { setTimeout as delay } from 'node:timers/promises';
import { backoffSeconds, type BackoffPolicy } from '../backoff.js';
import type { Clock } from '../clock.js';
import type { Keyring } from '../crypto/index.js';
import { NeedsReauth, NotFound, ProviderUnavailable, UpstreamError } from '../errors.js';
import type { EmitEvent, EventType } from '../events/index.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import { clientCredentialsGrant } from '../oauth/index.js';
import type { Provider, ProviderRegistry } from '../providers/index.js';
import type { ConnectionRow, Store, TokenWrite } from '../store/index.js';
import { classifyTokenEndpointError, type TokenEndpointFailure } from './classify.js';
import { isFresh, isUnexpired, secondsUntil } from './expiry.js';
import { fingerprintOf, parseIntent, type RefreshIntent } from './intent.js';
import { refreshTokenGrant, type TokenResponse } from './token-endpoint.js';
import type { AccessGrant } from './types.js';
import { openTokens, otherTokensOf, sealTokens, type TokenSet } from './vault.js';

export interface RefreshSettings {
  skewSeconds: number;
  claimTtlSeconds: number;
  tokenTimeoutSeconds: number;
  allowHttpLoopback: boolean;
  backoff: BackoffPolicy;
  /** Read on every use: the public URL is only known after listen with --port 0. */
  publicUrl: () => string;
}

export interface RefreshContext {
  store: Store;
  keyring: Keyring;
  providers: ProviderRegistry;
  clock: Clock;
  logger: Logger;
  emit: EmitEvent;
  settings: RefreshSettings;
  /** Names this process in claim owners, so logs and intents say which replica did what. */
  instanceId: string;
}

/** What the caller needs from the stored token; anything else means a refresh. */
export type Want =
  /** Valid beyond the skew window (every ordinary read). */
  | { kind: 'fresh' }
  /** The background refresher: refresh unless someone did since the row was listed. */
  | { kind: 'ahead'; listedVersion: number }
  /** A forced refresh: a token newer than the version the caller saw. */
  | { kind: 'newer'; thanVersion: number }
  /** The upstream answered 401 to this access token: anything but it. */
  | { kind: 'replace'; rejected: string };

/** How often a waiter looks at the row while another process holds the claim. */
const WAIT_POLL_MS = 40;

function satisfied(row: ConnectionRow, tokens: TokenSet, want: Want, now: Date, skew: number): boolean {
  switch (want.kind) {
    case 'fresh':
      return isFresh(tokens, row.expiresAt, now, skew);
    case 'ahead':
      return row.version !== want.listedVersion && isFresh(tokens, row.expiresAt, now, skew);
    case 'newer':
      return row.version > want.thanVersion && isFresh(tokens, row.expiresAt, now, skew);
    case 'replace':
      return tokens.accessToken !== want.rejected && isFresh(tokens, row.expiresAt, now, skew);
  }
}

function grantOf(row: ConnectionRow, tokens: TokenSet): AccessGrant {
  return {
    connectionId: row.id,
    accessToken: tokens.accessToken ?? '',
    tokenType: row.tokenType ?? 'Bearer',
    scopes: row.scopes,
    expiresAt: row.expiresAt,
    otherTokens: otherTokensOf(tokens),
  };
}

/**
 * Returns a token that satisfies `want`, refreshing it if needed with exactly
 * one refresher per connection across processes: whoever wins the database
 * claim refreshes; the others poll the row until the version moves, the claim
 * is released, or its lease runs out (a crashed holder), then look again.
 */
export async function obtainToken(ctx: RefreshContext, id: string, want: Want): Promise<AccessGrant> {
  const { store, clock, settings } = ctx;
  const giveUpAt = Date.now() + (settings.claimTtlSeconds + settings.tokenTimeoutSeconds + 5) * 1000;
  for (;;) {
    const row = await readRow(ctx, id);
    await assertRefreshable(ctx, row);
    const tokens = await openTokens(ctx.keyring, row.id, row.tokens);
    const now = clock.now();
    if (satisfied(row, tokens, want, now, settings.skewSeconds)) return grantOf(row, tokens);

    // After a failed refresh, everything but an operator's forced refresh waits for the backoff
    // instead of hammering the provider (an upstream 401 during an outage included).
    if (want.kind !== 'newer' && row.nextAttemptAt !== null && Date.parse(row.nextAttemptAt) > now.getTime()) {
      if (want.kind !== 'replace' && isUnexpired(tokens, row.expiresAt, now)) return grantOf(row, tokens);
      throw new ProviderUnavailable(
        `connection "${row.name}" needs a new token and the provider could not refresh it (${row.lastError ?? 'unknown error'})`,
        secondsUntil(row.nextAttemptAt, now),
      );
    }

    const owner = `${ctx.instanceId}.${newId('claim').slice(6, 14)}`;
    const until = new Date(now.getTime() + settings.claimTtlSeconds * 1000).toISOString();
    if (await store.connections.claimRefresh(id, owner, now.toISOString(), until)) {
      return refreshClaimed(ctx, id, owner, want);
    }

    // Someone else is refreshing. A token that still works is served meanwhile; the
    // background refresher has nothing to wait for.
    if (want.kind === 'ahead' || (want.kind === 'fresh' && isUnexpired(tokens, row.expiresAt, now))) {
      return grantOf(row, tokens);
    }
    if (Date.now() > giveUpAt) {
      throw new ProviderUnavailable(`a refresh of connection "${row.name}" is taking too long`, settings.claimTtlSeconds);
    }
    await waitForClaim(ctx, row, giveUpAt);
  }
}

async function waitForClaim(ctx: RefreshContext, seen: ConnectionRow, giveUpAt: number): Promise<void> {
  while (Date.now() <= giveUpAt) {
    await delay(WAIT_POLL_MS);
    const row = await ctx.store.connections.findById(seen.id);
    if (row === undefined || row.version !== seen.version || row.status !== seen.status) return;
    if (row.refreshClaimUntil === null || Date.parse(row.refreshClaimUntil) <= ctx.clock.now().getTime()) return;
  }
}

async function readRow(ctx: RefreshContext, id: string): Promise<ConnectionRow> {
  const row = await ctx.store.connections.findById(id);
  if (row === undefined) throw new NotFound(`connection ${id} does not exist`);
  return row;
}

/** The reconnect hint every needs_reauth answer carries. */
export async function needsReauthError(ctx: RefreshContext, row: ConnectionRow, reason: string): Promise<NeedsReauth> {
  const provider = await ctx.providers.getById(row.providerId);
  return new NeedsReauth(`connection "${row.name}" must be reconnected: ${reason}`, {
    connection: row.name,
    reconnectUrl: `${ctx.settings.publicUrl()}/v1/connect/${encodeURIComponent(provider.name)}`,
  });
}

async function assertRefreshable(ctx: RefreshContext, row: ConnectionRow): Promise<void> {
  if (row.status === 'active') return;
  const reason =
    row.status === 'needs_reauth'
      ? (row.lastError ?? 'the provider rejected its refresh token')
      : row.status === 'pending'
        ? 'it was never authorized'
        : `it is ${row.status}`;
  throw await needsReauthError(ctx, row, reason);
}

/** We hold the claim: re-read (another replica may have just refreshed), then refresh once. */
async function refreshClaimed(ctx: RefreshContext, id: string, owner: string, want: Want): Promise<AccessGrant> {
  const { store, clock, settings, logger } = ctx;
  let row: ConnectionRow;
  let tokens: TokenSet;
  try {
    row = await readRow(ctx, id);
    tokens = await openTokens(ctx.keyring, row.id, row.tokens);
    if (row.status !== 'active' || satisfied(row, tokens, want, clock.now(), settings.skewSeconds)) {
      await store.connections.releaseClaim(id, owner);
      await assertRefreshable(ctx, row);
      return grantOf(row, tokens);
    }
  } catch (err) {
    await store.connections.releaseClaim(id, owner).catch(() => undefined);
    throw err;
  }

  const provider = await ctx.providers.getById(row.providerId).catch(async (err: unknown) => {
    await store.connections.releaseClaim(id, owner);
    throw err;
  });
  const startedAt = clock.now();
  let lostAnswer: RefreshIntent | undefined;
  let renewed: Renewed;
  try {
    if (row.grantType === 'client_credentials') {
      renewed = await renewClientCredentials(ctx, provider, row);
    } else {
      if (tokens.refreshToken === undefined) {
        return await giveUp(ctx, row, owner, provider, 'the access token expired and there is no refresh token');
      }
      const fingerprint = fingerprintOf(tokens.refreshToken);
      const previous = parseIntent(row.refreshIntent);
      if (previous !== undefined && previous.fingerprint === fingerprint && previous.owner !== owner) {
        lostAnswer = previous;
        logger.warn(
          { connection: row.name, previousOwner: previous.owner, previousAt: previous.at },
          'an earlier refresh sent this refresh token and got no answer; sending it again',
        );
      }
      const intent: RefreshIntent = { owner, at: startedAt.toISOString(), fingerprint };
      await store.connections.recordRefreshIntent(id, owner, JSON.stringify(intent));
      logger.debug({ connection: row.name, owner }, 'refreshing access token');
      const response = await refreshTokenGrant(provider, tokens.refreshToken, {
        clientSecret: await ctx.providers.clientSecretOf(provider),
        allowHttpLoopback: settings.allowHttpLoopback,
        timeoutSeconds: requestTimeout(settings),
      });
      renewed = fromRefreshResponse(response, tokens, provider, clock.now());
      if (response.apiBaseUrlRejected !== undefined) {
        logger.warn({ connection: row.name, reason: response.apiBaseUrlRejected }, 'kept the stored API base URL: the one in the token response is not usable');
      }
    }
  } catch (err) {
    if (err instanceof NeedsReauth) throw err;
    return handleFailure(ctx, row, tokens, owner, provider, want, classifyTokenEndpointError(err), lostAnswer);
  }
  try {
    return await commit(ctx, row, owner, provider, renewed);
  } catch (err) {
    // Whatever went wrong, do not make the others wait for the lease to run out.
    await store.connections.releaseClaim(id, owner).catch(() => undefined);
    throw err;
  }
}

/**
 * A refresher gives up on the HTTP request before its claim lapses, so two
 * refreshers never have a request in flight with the same refresh token.
 */
function requestTimeout(settings: RefreshSettings): number {
  return Math.min(settings.tokenTimeoutSeconds, Math.max(0.5, settings.claimTtlSeconds * 0.75));
}

/** The new token state, before sealing. */
interface Renewed {
  tokens: TokenSet;
  tokenType: string;
  expiresAt: string | null;
  refreshTokenExpiresAt?: string;
  scopes?: string[];
  /** Set when the token response named the connection's API base (Salesforce's instance_url). */
  apiBaseUrl?: string;
  rotated: boolean;
}

function fromRefreshResponse(response: TokenResponse, old: TokenSet, provider: Provider, now: Date): Renewed {
  const at = (seconds: number): string => new Date(now.getTime() + seconds * 1000).toISOString();
  // A response without a refresh token keeps the old one (RFC 6749 section 6).
  const refreshToken = response.refreshToken ?? old.refreshToken;
  const idToken = response.idToken ?? old.idToken;
  const rtLifetime = response.refreshTokenExpiresIn ?? (response.refreshToken ? provider.quirks.refreshTokenLifetime : undefined);
  return {
    tokens: {
      accessToken: response.accessToken,
      ...(refreshToken === undefined ? {} : { refreshToken }),
      ...(idToken === undefined ? {} : { idToken }),
    },
    tokenType: response.tokenType,
    expiresAt: response.expiresIn === undefined ? null : at(response.expiresIn),
    ...(rtLifetime === undefined ? {} : { refreshTokenExpiresAt: at(rtLifetime) }),
    ...(response.scope === undefined ? {} : { scopes: response.scope.split(/\s+/).filter(Boolean) }),
    ...(response.apiBaseUrl === undefined ? {} : { apiBaseUrl: response.apiBaseUrl }),
    rotated: response.refreshToken !== undefined && response.refreshToken !== old.refreshToken,
  };
}

async function renewClientCredentials(ctx: RefreshContext, provider: Provider, row: ConnectionRow): Promise<Renewed> {
  const stored = row.metadata.requestedScopes;
  const scopes = Array.isArray(stored) ? stored.filter((s): s is string => typeof s === 'string') : row.scopes;
  const config = {
    publicUrl: ctx.settings.publicUrl(),
    allowedReturnOrigins: [],
    allowHttpLoopback: ctx.settings.allowHttpLoopback,
    refreshSkewSeconds: ctx.settings.skewSeconds,
  };
  const granted = await clientCredentialsGrant({ providers: ctx.providers, clock: ctx.clock, config }, provider, scopes);
  return {
    tokens: granted.tokens,
    tokenType: granted.tokenType,
    expiresAt: granted.expiresAt,
    scopes: granted.scopes,
    ...(granted.apiBaseUrl === undefined ? {} : { apiBaseUrl: granted.apiBaseUrl }),
    rotated: false,
  };
}

/**
 * Persists access and refresh token together in one statement before the new
 * access token is handed to anyone. A failed write is retried: a rotated
 * refresh token exists nowhere else, so dropping it would lose the grant.
 */
async function commit(ctx: RefreshContext, row: ConnectionRow, owner: string, provider: Provider, renewed: Renewed): Promise<AccessGrant> {
  const { store, clock, logger } = ctx;
  const now = clock.now().toISOString();
  const sealed = await sealTokens(ctx.keyring, row.id, renewed.tokens);
  const write: TokenWrite = {
    tokens: sealed,
    tokenType: renewed.tokenType,
    expiresAt: renewed.expiresAt,
    lastRefreshedAt: now,
    status: 'active',
    lastError: null,
    ...(renewed.refreshTokenExpiresAt === undefined ? {} : { refreshTokenExpiresAt: renewed.refreshTokenExpiresAt }),
    ...(renewed.scopes === undefined ? {} : { scopes: renewed.scopes }),
    ...(renewed.apiBaseUrl === undefined ? {} : { apiBaseUrl: renewed.apiBaseUrl }),
  };
  const deadline = Date.now() + ctx.settings.claimTtlSeconds * 1000;
  let committed: boolean | undefined;
  for (let attempt = 1; committed === undefined; attempt += 1) {
    try {
      committed = await store.connections.saveRefreshedTokens(row.id, row.version, write, now);
    } catch (err) {
      logger.error(
        { connection: row.name, attempt, rotated: renewed.rotated, err: err instanceof Error ? err.message : String(err) },
        'could not store refreshed tokens; retrying',
      );
      if (Date.now() > deadline) {
        logger.error(
          { connection: row.name, rotated: renewed.rotated },
          renewed.rotated
            ? 'gave up storing refreshed tokens: the provider rotated the refresh token, so the connection will need to be reconnected'
            : 'gave up storing refreshed tokens; the stored refresh token still works',
        );
        throw new ProviderUnavailable(`the refreshed token of connection "${row.name}" could not be stored`, 5, { cause: err });
      }
      await delay(Math.min(2000, 50 * 2 ** attempt));
    }
  }
  if (!committed) {
    // Our claim lapsed and someone stored a newer token meanwhile; theirs wins (compare-and-set).
    logger.warn({ connection: row.name, rotated: renewed.rotated }, 'refreshed token not stored: a newer one was stored meanwhile');
    const current = await readRow(ctx, row.id);
    const tokens = await openTokens(ctx.keyring, current.id, current.tokens);
    if (isUnexpired(tokens, current.expiresAt, clock.now())) return grantOf(current, tokens);
    throw new ProviderUnavailable(`connection "${row.name}" was refreshed concurrently; try again`, 1);
  }
  logger.info({ connection: row.name, rotated: renewed.rotated, expiresAt: renewed.expiresAt }, 'access token refreshed');
  const saved: ConnectionRow = {
    ...row,
    tokenType: renewed.tokenType,
    expiresAt: renewed.expiresAt,
    scopes: renewed.scopes ?? row.scopes,
    apiBaseUrl: renewed.apiBaseUrl ?? row.apiBaseUrl,
    version: row.version + 1,
  };
  await emitFor(ctx, 'connection.refreshed', saved, provider, { status: 'active', lastError: null });
  return grantOf(saved, renewed.tokens);
}

async function handleFailure(
  ctx: RefreshContext,
  row: ConnectionRow,
  tokens: TokenSet,
  owner: string,
  provider: Provider,
  want: Want,
  failure: TokenEndpointFailure,
  lostAnswer: RefreshIntent | undefined,
): Promise<AccessGrant> {
  const { store, clock, logger, settings } = ctx;
  if (failure.kind === 'rejected_grant') {
    const reason =
      lostAnswer === undefined
        ? failure.description
        : `${failure.description}; a refresh at ${lostAnswer.at} sent this refresh token and its answer was lost, ` +
          'so the provider had probably already rotated it';
    return giveUp(ctx, row, owner, provider, reason);
  }
  const now = clock.now();
  const failureCount = row.failureCount + 1;
  const wait = backoffSeconds(failureCount, settings.backoff);
  const nextAttemptAt = new Date(now.getTime() + wait * 1000).toISOString();
  await store.connections.recordRefreshFailure(
    row.id,
    owner,
    {
      failureCount,
      nextAttemptAt,
      lastError: failure.description,
      keepIntent: failure.kind === 'outage' && failure.answerLost,
    },
    now.toISOString(),
  );
  logger.warn({ connection: row.name, failureCount, retryInSeconds: wait, reason: failure.description }, 'refresh failed');
  await emitFor(ctx, 'connection.refresh_failed', row, provider, {
    status: row.status,
    lastError: failure.description,
    failureCount,
    nextAttemptAt,
  });
  if ((want.kind === 'fresh' || want.kind === 'ahead') && isUnexpired(tokens, row.expiresAt, now)) return grantOf(row, tokens);
  if (failure.kind === 'refused') throw new UpstreamError(`refreshing connection "${row.name}" failed: ${failure.description}`);
  throw new ProviderUnavailable(`refreshing connection "${row.name}" failed: ${failure.description}`, wait);
}

/** The grant is gone for good: needs_reauth, one event, and no more attempts. */
async function giveUp(ctx: RefreshContext, row: ConnectionRow, owner: string, provider: Provider, reason: string): Promise<never> {
  const now = ctx.clock.now().toISOString();
  const marked = await ctx.store.connections.markNeedsReauth(row.id, owner, reason, now);
  ctx.logger.warn({ connection: row.name, reason }, 'connection needs to be reconnected');
  if (marked) await emitFor(ctx, 'connection.needs_reauth', row, provider, { status: 'needs_reauth', lastError: reason });
  throw await needsReauthError(ctx, { ...row, status: 'needs_reauth', lastError: reason }, reason);
}

async function emitFor(
  ctx: RefreshContext,
  type: EventType,
  row: ConnectionRow,
  provider: Provider,
  extra: { status: string; lastError: string | null; failureCount?: number; nextAttemptAt?: string },
): Promise<void> {
  await ctx.emit(type, { id: row.id, name: row.name, provider: provider.name, ...extra });
}
