import { setTimeout as delay } from 'node:timers/promises';
import type { CustomFetch } from 'openid-client';
import { backoffSeconds, type BackoffPolicy } from '../backoff.js';
import type { Clock } from '../clock.js';
import type { Keyring } from '../crypto/index.js';
import { NeedsReauth, NotFound, ProviderUnavailable, UpstreamError } from '../errors.js';
import type { ConnectionEventType, EmitEvent } from '../events/index.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import { clientCredentialsGrant } from '../oauth/index.js';
import type { Provider, ProviderRegistry } from '../providers/index.js';
import type { ClaimFence, ConnectionRow, Store, TokenWrite } from '../store/index.js';
import { startHeartbeat, type Heartbeat } from './claim.js';
import { classifyTokenEndpointError, type TokenEndpointFailure } from './classify.js';
import { isFresh, isUnexpired, secondsUntil } from './expiry.js';
import { fingerprintOf, parseIntent, type RefreshIntent } from './intent.js';
import { mayBeInFlight, neverSent, rotates, rotationLostReason, ROTATION_LOST } from './rotation.js';
import type { SpillDir } from './spill.js';
import { refreshTokenGrant, type TokenResponse } from './token-endpoint.js';
import type { AccessGrant } from './types.js';
import { clientRefused, misconfiguredGate } from './misconfigured.js';
import { claimAfterUnauthorized } from './unauthorized.js';
import { openTokens, otherTokensOf, sealTokens, type TokenSet } from './vault.js';

export interface RefreshSettings {
  skewSeconds: number;
  claimTtlSeconds: number;
  tokenTimeoutSeconds: number;
  allowHttpLoopback: boolean;
  /** The address-guarded fetch (net/) every token endpoint call goes through. */
  fetch: CustomFetch;
  backoff: BackoffPolicy;
  /** At most one refresh an upstream 401 asks for per connection in this many seconds. */
  unauthorizedCooldownSeconds: number;
  /** Read on every use: the public URL is only known after listen with --port 0. */
  publicUrl: () => string;
  /** Where token answers the database cannot take are kept until it can (the data directory's spill/). */
  spillDir?: string;
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
  /** Where answers the database could not take are kept (absent: in-process tests without a data directory). */
  spill?: SpillDir;
  /** A spill was written: replay it once the database is back. */
  onSpilled?: () => void;
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

    if (await misconfiguredGate(ctx, row, tokens, want)) return grantOf(row, tokens);

    const owner = `${ctx.instanceId}.${newId('claim').slice(6, 14)}`;
    const until = new Date(now.getTime() + settings.claimTtlSeconds * 1000).toISOString();
    const fence =
      want.kind === 'replace'
        ? await claimAfterUnauthorized(ctx, row, owner, now, until)
        : await store.connections.claimRefresh(id, owner, now.toISOString(), until);
    if (fence !== undefined) {
      const outcome = await refreshClaimed(ctx, id, fence, want);
      if (!('waitUntil' in outcome)) return outcome;
      // An earlier request with this refresh token may still get its answer: never resend meanwhile.
      if (want.kind === 'ahead' || (want.kind === 'fresh' && isUnexpired(tokens, row.expiresAt, now))) {
        return grantOf(row, tokens);
      }
      await waitForVersion(ctx, row, Math.min(outcome.waitUntil, giveUpAt));
      continue;
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

/** Polls the row until its version or status moves (the earlier answer committed) or `untilMs`. */
async function waitForVersion(ctx: RefreshContext, seen: ConnectionRow, untilMs: number): Promise<void> {
  while (Date.now() < untilMs) {
    await delay(Math.min(WAIT_POLL_MS * 5, Math.max(1, untilMs - Date.now())));
    const row = await ctx.store.connections.findById(seen.id);
    if (row === undefined || row.version !== seen.version || row.status !== seen.status) return;
  }
}

async function readRow(ctx: RefreshContext, id: string): Promise<ConnectionRow> {
  const row = await ctx.store.connections.findById(id);
  if (row === undefined) throw new NotFound(`connection ${id} does not exist`);
  return row;
}

/**
 * The reconnect hint every needs_reauth answer carries: the console page where
 * an operator makes a connect link that repairs this connection in place
 * (a person must consent, so it is a page, not an API call).
 */
export async function needsReauthError(ctx: RefreshContext, row: ConnectionRow, reason: string): Promise<NeedsReauth> {
  return new NeedsReauth(`connection "${row.name}" must be reconnected: ${reason}`, {
    connection: row.name,
    reconnectUrl: `${ctx.settings.publicUrl().replace(/\/+$/, '')}/console/connections/${encodeURIComponent(row.name)}?reconnect=1`,
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

/** Tells obtainToken to look again later instead of sending (an earlier request may still be answered). */
interface LookAgain {
  waitUntil: number;
}

/** We hold the claim: keep it alive (heartbeat) for as long as the refresh takes. */
async function refreshClaimed(ctx: RefreshContext, id: string, fence: ClaimFence, want: Want): Promise<AccessGrant | LookAgain> {
  const heartbeat = startHeartbeat(ctx, id, fence, ctx.settings.claimTtlSeconds);
  try {
    return await refreshHeld(ctx, id, fence, want, heartbeat);
  } finally {
    heartbeat.stop();
  }
}

/** Re-read (another replica may have just refreshed), then refresh once. */
async function refreshHeld(ctx: RefreshContext, id: string, fence: ClaimFence, want: Want, heartbeat: Heartbeat): Promise<AccessGrant | LookAgain> {
  const { store, clock, settings, logger } = ctx;
  const { owner } = fence;
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

  // The client that minted this grant refreshes it (a provider may hold several).
  const provider = await ctx.providers.forConnection(row).catch(async (err: unknown) => {
    await store.connections.releaseClaim(id, owner);
    throw err;
  });
  const startedAt = clock.now();
  let lostAnswer: RefreshIntent | undefined;
  let sent: { intent: RefreshIntent; text: string } | undefined;
  let answered = false;
  // The rotated refresh token went to the spill file only: its replay needs this refresh's intent to stay.
  let spilledFirst = false;
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
        const waitUntil = mayBeInFlight(previous, startedAt, settings.tokenTimeoutSeconds);
        if (waitUntil !== undefined) {
          await store.connections.releaseClaim(id, owner);
          logger.info(
            { connection: row.name, previousOwner: previous.owner, previousAt: previous.at },
            'an earlier refresh with this refresh token may still get its answer; waiting for it instead of sending again',
          );
          return { waitUntil };
        }
        if (rotates(provider, row)) {
          return await giveUp(ctx, row, owner, provider, rotationLostReason(previous), { keepIntent: true });
        }
        lostAnswer = previous;
        logger.warn(
          { connection: row.name, previousOwner: previous.owner, previousAt: previous.at },
          'an earlier refresh sent this refresh token and got no answer; sending it again',
        );
      }
      // Opened before the intent is recorded: a failure here has sent nothing, so it cannot look like a lost answer.
      const clientSecret = await ctx.providers.clientSecretOf(provider);
      const intent: RefreshIntent = { owner, generation: fence.generation, at: startedAt.toISOString(), fingerprint };
      const text = JSON.stringify(intent);
      if (heartbeat.lost || !(await store.connections.recordRefreshIntent(id, fence, text))) {
        // A holder that lost its claim never sends: look at the row again.
        logger.warn({ connection: row.name, owner }, 'lost the refresh claim before sending; not sending');
        return { waitUntil: 0 };
      }
      sent = { intent, text };
      logger.debug({ connection: row.name, owner }, 'refreshing access token');
      const old = tokens;
      const response = await refreshTokenGrant(provider, tokens.refreshToken, {
        clientSecret,
        allowHttpLoopback: settings.allowHttpLoopback,
        // No cap from the claim: the heartbeat keeps it while the provider takes its time.
        timeoutSeconds: settings.tokenTimeoutSeconds,
        fetch: settings.fetch,
        onAnswer: async (refreshToken) => {
          answered = true;
          if (refreshToken !== undefined) spilledFirst = await keepRotatedFirst(ctx, row, old, text, refreshToken);
        },
      });
      renewed = fromRefreshResponse(response, tokens, provider, clock.now());
      if (response.apiBaseUrlRejected !== undefined) {
        logger.warn({ connection: row.name, reason: response.apiBaseUrlRejected }, 'kept the stored API base URL: the one in the token response is not usable');
      }
    }
  } catch (err) {
    if (err instanceof NeedsReauth) throw err;
    let failure = classifyTokenEndpointError(err);
    // An answer that arrived (its refresh token already kept) was not lost, whatever was wrong with it;
    // nor was one whose request never left (connection refused).
    if (failure.kind === 'outage' && (answered || neverSent(err))) failure = { ...failure, answerLost: false };
    if (failure.kind === 'outage' && failure.answerLost && sent !== undefined && rotates(provider, row)) {
      return giveUp(ctx, row, owner, provider, `${rotationLostReason(sent.intent)} (${failure.description})`, { keepIntent: true });
    }
    return handleFailure(ctx, row, tokens, owner, provider, want, failure, lostAnswer, spilledFirst);
  }
  try {
    return await commit(ctx, row, fence, provider, renewed, sent?.text);
  } catch (err) {
    // Whatever went wrong, do not make the others wait for the lease to run out.
    await store.connections.releaseClaim(id, owner).catch(() => undefined);
    throw err;
  }
}

/**
 * A 200 answer's rotated refresh token, stored (sealed, with the current
 * access token) before the rest of the answer is checked; kept on disk if
 * the database cannot take it.
 */
/** Returns true when the token could only be kept in the spill file (its replay needs the intent kept). */
async function keepRotatedFirst(ctx: RefreshContext, row: ConnectionRow, old: TokenSet, intent: string, refreshToken: string): Promise<boolean> {
  if (refreshToken === old.refreshToken) return false;
  const sealed = await sealTokens(ctx.keyring, row.id, { ...old, refreshToken });
  try {
    const kept = await ctx.store.connections.saveRotatedRefreshToken(row.id, row.version, intent, sealed, ctx.clock.now().toISOString());
    if (!kept) ctx.logger.warn({ connection: row.name }, 'rotated refresh token not stored first: the connection changed since the request was sent');
    return false;
  } catch (err) {
    ctx.logger.error({ connection: row.name, err: err instanceof Error ? err.message : String(err) }, 'could not store the rotated refresh token; keeping it on disk');
    return spillAnswer(ctx, row, intent, { tokens: sealed, tokenType: row.tokenType, expiresAt: row.expiresAt, refreshTokenRotates: true });
  }
}

/** Keeps an answer the database could not take in the spill directory; false when there is none. */
function spillAnswer(ctx: RefreshContext, row: ConnectionRow, intent: string, write: TokenWrite): boolean {
  if (ctx.spill === undefined) return false;
  try {
    ctx.spill.save({ connectionId: row.id, name: row.name, expectedVersion: row.version, intent, write, at: ctx.clock.now().toISOString() });
    ctx.onSpilled?.();
    return true;
  } catch (err) {
    ctx.logger.error({ connection: row.name, err: err instanceof Error ? err.message : String(err) }, 'could not keep the refresh answer on disk');
    return false;
  }
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
  const { providers, clock, store, logger, emit } = ctx;
  const granted = await clientCredentialsGrant({ providers, clock, store, logger, emit, config, fetch: ctx.settings.fetch }, provider, scopes, {
    timeout: ctx.settings.tokenTimeoutSeconds,
  });
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
 * access token is handed to anyone, fenced by version and claim. A failed
 * write is retried (the heartbeat keeps the claim meanwhile) and, from the
 * first failure, the answer is also kept on disk: a rotated refresh token
 * exists nowhere else, so dropping it would lose the grant.
 */
async function commit(
  ctx: RefreshContext,
  row: ConnectionRow,
  fence: ClaimFence,
  provider: Provider,
  renewed: Renewed,
  intent: string | undefined,
): Promise<AccessGrant> {
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
    ...(renewed.rotated ? { refreshTokenRotates: true as const } : {}),
  };
  const deadline = Date.now() + ctx.settings.claimTtlSeconds * 1000;
  let spilled = false;
  let committed: boolean | undefined;
  for (let attempt = 1; committed === undefined; attempt += 1) {
    try {
      committed = await store.connections.saveRefreshedTokens(row.id, row.version, fence, write, now);
      // The claim lapsed (an outage, a stall) but nobody has sent since: the answer is still the newest.
      if (!committed && intent !== undefined) {
        committed = await store.connections.saveAnsweredTokens(row.id, row.version, intent, write, now);
        if (committed) logger.warn({ connection: row.name }, 'stored a refresh answer after its claim lapsed; nobody had sent since');
      }
    } catch (err) {
      logger.error(
        { connection: row.name, attempt, rotated: renewed.rotated, err: err instanceof Error ? err.message : String(err) },
        'could not store refreshed tokens; retrying',
      );
      if (!spilled && renewed.rotated && intent !== undefined) spilled = spillAnswer(ctx, row, intent, write);
      if (Date.now() > deadline) {
        if (spilled) {
          logger.error({ connection: row.name }, 'refreshed tokens kept on disk until the database is back');
          throw new ProviderUnavailable(
            `the refreshed token of connection "${row.name}" is kept on local disk until the database is back`,
            5,
            { cause: err },
          );
        }
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
  if (spilled && intent !== undefined) ctx.spill?.remove(row.id, intent);
  if (!committed) {
    // Someone stored a newer token, or sent since: theirs wins.
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
  spilledFirst = false,
): Promise<AccessGrant> {
  const { store, clock, logger, settings } = ctx;
  if (failure.kind === 'client_rejected') {
    await clientRefused(ctx, row, tokens, owner, provider, want, failure);
    return grantOf(row, tokens);
  }
  if (failure.kind === 'rejected_grant') {
    let reason =
      lostAnswer === undefined
        ? failure.description
        : `${failure.description}; a refresh at ${lostAnswer.at} sent this refresh token and its answer was lost, ` +
          'so the provider had probably already rotated it';
    if (lostAnswer === undefined && failure.description.includes('invalid_grant') && rotates(provider, row)) {
      reason +=
        '; this provider rotates refresh tokens, and Latchkey never sends one twice: if another client used ' +
        'an earlier refresh token of this grant, the provider revoked the whole grant';
    }
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
      keepIntent: (failure.kind === 'outage' && failure.answerLost) || spilledFirst,
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

/**
 * The grant is gone for good: needs_reauth, one event, and no more attempts.
 * `keepIntent` (rotation_lost): the lost answer, should it still arrive, may commit.
 */
async function giveUp(
  ctx: RefreshContext,
  row: ConnectionRow,
  owner: string,
  provider: Provider,
  reason: string,
  options: { keepIntent?: boolean } = {},
): Promise<never> {
  const now = ctx.clock.now().toISOString();
  const marked = await ctx.store.connections.markNeedsReauth(row.id, owner, reason, now, options.keepIntent === true);
  ctx.logger.warn({ connection: row.name, reason }, 'connection needs to be reconnected');
  const extra = reason.startsWith(ROTATION_LOST) ? { reason: ROTATION_LOST } : {};
  if (marked) await emitFor(ctx, 'connection.needs_reauth', row, provider, { status: 'needs_reauth', lastError: reason, ...extra });
  throw await needsReauthError(ctx, { ...row, status: 'needs_reauth', lastError: reason }, reason);
}

async function emitFor(
  ctx: RefreshContext,
  type: ConnectionEventType,
  row: ConnectionRow,
  provider: Provider,
  extra: { status: string; lastError: string | null; failureCount?: number; nextAttemptAt?: string; reason?: string },
): Promise<void> {
  await ctx.emit(type, { id: row.id, name: row.name, provider: provider.name, ...extra });
}
