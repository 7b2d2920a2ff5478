import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Connection } from '../connections/index.js';
import { newId } from '../ids.js';
import { providerHealth } from '../providers/index.js';
import { isFresh, isUnexpired } from './expiry.js';
import { checkMisconfiguredProviders } from './misconfigured.js';
import { obtainToken, type RefreshContext, type Want } from './refresh.js';
import { revokeAtProvider } from './revoke.js';
import { SingleFlight } from './single-flight.js';
import { SpillDir, SpillReplayer } from './spill.js';
import { WithinUnauthorizedCooldown } from './unauthorized.js';
import type { AccessGrant, TokenService } from './types.js';
import { openTokens, otherTokensOf, type TokenSet } from './vault.js';

/**
 * How long a caller whose token still works waits for a refresh before it is
 * served the current token (the refresh goes on without it).
 */
const WAIT_WHILE_VALID_MS = 2000;

/** Opened token sets kept in memory (one per connection in use). */
const MAX_OPENED = 10_000;

export interface LatchkeyTokens extends TokenService {
  /** Background refresh of one connection listed at `listedVersion`; resolves whatever happens. */
  refreshAhead(connectionId: string, listedVersion: number): Promise<void>;
  /** Checks misconfigured providers whose next check is due; returns how many accept the client again. */
  checkProviders(): Promise<number>;
  readonly instanceId: string;
}

export function tokenService(ctx: Omit<RefreshContext, 'instanceId'> & { instanceId?: string }): LatchkeyTokens {
  const instanceId = ctx.instanceId ?? newId('lk').slice(0, 11);
  const spill = ctx.settings.spillDir === undefined ? undefined : new SpillDir(ctx.settings.spillDir);
  const replayer =
    spill &&
    new SpillReplayer(spill, {
      store: ctx.store,
      logger: ctx.logger,
      now: () => ctx.clock.now().toISOString(),
      onCommitted: (answer) =>
        ctx.emit('connection.refreshed', { id: answer.connectionId, name: answer.name, status: 'active', lastError: null }),
    });
  // Answers kept on disk by an earlier run (a crash during a database outage) are committed first.
  replayer?.kick(0);
  const context: RefreshContext = { ...ctx, instanceId, ...(spill && replayer ? { spill, onSpilled: () => replayer.kick() } : {}) };
  const flights = new SingleFlight<AccessGrant>();
  const revokeDeps = {
    keyring: ctx.keyring,
    providers: ctx.providers,
    logger: ctx.logger,
    allowHttpLoopback: ctx.settings.allowHttpLoopback,
    timeoutSeconds: ctx.settings.tokenTimeoutSeconds,
    fetch: ctx.settings.fetch,
  };

  const obtain = (key: string, id: string, want: Want): Promise<AccessGrant> =>
    flights.run(`${id}:${key}`, () => obtainToken(context, id, want));

  /**
   * The last opened token set per connection, keyed by the sealed blob it came
   * from: every refresh writes a new blob (fresh nonce), so an equal blob means
   * the same tokens, and AES-GCM opening is skipped on the hot path. Expiry is
   * still checked on every call, and refreshes still go through `obtain`.
   */
  const opened = new Map<string, { sealed: string; tokens: TokenSet }>();
  async function openCached(connection: Connection): Promise<TokenSet> {
    const sealed = connection.sealedTokens;
    if (sealed === null) return openTokens(ctx.keyring, connection.id, sealed);
    const hit = opened.get(connection.id);
    if (hit !== undefined && hit.sealed === sealed) return hit.tokens;
    const tokens = await openTokens(ctx.keyring, connection.id, sealed);
    if (opened.size >= MAX_OPENED) opened.delete(opened.keys().next().value as string);
    opened.set(connection.id, { sealed, tokens });
    return tokens;
  }

  const grantOf = (connection: Connection, tokens: TokenSet): AccessGrant => ({
    connectionId: connection.id,
    accessToken: tokens.accessToken ?? '',
    tokenType: connection.tokenType ?? 'Bearer',
    scopes: connection.scopes,
    expiresAt: connection.expiresAt,
    otherTokens: otherTokensOf(tokens),
  });

  async function getValidToken(connection: Connection): Promise<AccessGrant> {
    const now = ctx.clock.now();
    if (connection.status === 'active') {
      const tokens = await openCached(connection);
      if (isFresh(tokens, connection.expiresAt, now, ctx.settings.skewSeconds)) {
        return grantOf(connection, tokens);
      }
      const flight = obtain('fresh', connection.id, { kind: 'fresh' });
      if (isUnexpired(tokens, connection.expiresAt, now)) {
        // Inside the skew window but still valid: do not let a slow provider stall the caller.
        flight.catch(() => undefined);
        const current = grantOf(connection, tokens);
        const left = Date.parse(connection.expiresAt ?? '') - now.getTime();
        const timer = delay(Math.min(WAIT_WHILE_VALID_MS, Math.max(0, left)), current, { ref: false });
        return Promise.race([flight.catch(() => current), timer]);
      }
      return flight;
    }
    return obtain('fresh', connection.id, { kind: 'fresh' });
  }

  async function reportUnauthorized(connection: Connection, rejectedAccessToken: string): Promise<AccessGrant | undefined> {
    const key = `replace:${createHash('sha256').update(rejectedAccessToken).digest('hex').slice(0, 16)}`;
    try {
      return await obtain(key, connection.id, { kind: 'replace', rejected: rejectedAccessToken });
    } catch (err) {
      if (err instanceof WithinUnauthorizedCooldown) return undefined;
      throw err;
    }
  }

  async function forceRefresh(connection: Connection): Promise<AccessGrant> {
    const grant = await obtain(`newer:${connection.version}`, connection.id, { kind: 'newer', thanVersion: connection.version });
    // A forced refresh is tried even while the provider is marked misconfigured; it worked, so the client is fine.
    await providerHealth(context).clear(connection.providerId);
    return grant;
  }

  async function refreshAhead(connectionId: string, listedVersion: number): Promise<void> {
    try {
      await obtain(`ahead:${listedVersion}`, connectionId, { kind: 'ahead', listedVersion });
    } catch (err) {
      ctx.logger.debug(
        { connectionId, err: err instanceof Error ? err.message : String(err) },
        'background refresh did not succeed',
      );
    }
  }

  return {
    instanceId,
    getValidToken,
    reportUnauthorized,
    forceRefresh,
    refreshAhead,
    checkProviders: () => checkMisconfiguredProviders(context),
    revokeAtProvider: (connection, which, token) => revokeAtProvider(revokeDeps, connection, which, token),
  };
}
