import type { CustomFetch } from 'openid-client';
import { backoffSeconds, type BackoffPolicy } from '../backoff.js';
import type { Clock } from '../clock.js';
import type { Connection } from '../connections/index.js';
import type { Keyring } from '../crypto/index.js';
import type { EmitEvent } from '../events/index.js';
import { NotFound } from '../errors.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import type { Provider, ProviderRegistry } from '../providers/index.js';
import type { Keyset, RevocationRow, Store } from '../store/index.js';
import { classifyTokenEndpointError } from './classify.js';
import { tokenRevocation } from './token-endpoint.js';
import { openTokens } from './vault.js';

export interface RevocationSettings {
  /** Attempts before a job is given up (LATCHKEY_REVOCATION_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Seconds after which a job is given up whatever its attempts (LATCHKEY_REVOCATION_MAX_AGE). */
  maxAgeSeconds: number;
  backoff: BackoffPolicy;
  allowHttpLoopback: boolean;
  /** Seconds one revocation request may take. */
  timeoutSeconds: number;
  /** The guarded outbound fetch (net/): revocation endpoints are dialled through the address guard. */
  fetch: CustomFetch;
}

export interface RevocationDeps {
  store: Store;
  keyring: Keyring;
  providers: ProviderRegistry;
  clock: Clock;
  logger: Logger;
  emit: EmitEvent;
  settings: RevocationSettings;
}

/** A revocation job as the API shows it: never the token. */
export interface RevocationView {
  id: string;
  connectionId: string;
  connection: string;
  provider: string | null;
  tokenTypeHint: string;
  status: RevocationRow['status'];
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** What deleting a connection did at the provider. */
export interface ConnectionDeletion {
  revokedAtProvider: boolean;
  /** The job that keeps trying when the provider did not confirm; null when there was nothing to revoke. */
  revocation: RevocationView | null;
}

function tokenContext(id: string) {
  return { table: 'revocations', rowId: id, column: 'token' };
}

function clientContext(id: string) {
  return { table: 'revocations', rowId: id, column: 'client' };
}

/** What a job needs to revoke with when the provider (or its client) is gone: the provider as the grant's client saw it. */
interface SealedClient {
  provider: Omit<Provider, 'sealedClientSecret'>;
  clientSecret?: string;
}

/** Who revokes: the provider as it is now, else the one sealed into the job when it was queued. */
async function revokerOf(deps: RevocationDeps, job: RevocationRow): Promise<{ provider: Provider; clientSecret: () => Promise<string | undefined> } | undefined> {
  const live = await deps.providers.forConnection({ providerId: job.providerId, providerClientId: job.providerClientId }).catch(onlyNotFound);
  // The live provider wins: an operator may have rotated its client secret since the job was queued.
  if (live !== undefined) return { provider: live, clientSecret: () => deps.providers.clientSecretOf(live) };
  if (job.client === null) return undefined;
  const sealed = JSON.parse(await deps.keyring.openString(job.client, clientContext(job.id))) as SealedClient;
  return { provider: { ...sealed.provider, sealedClientSecret: null }, clientSecret: async () => sealed.clientSecret };
}

export function toRevocationView(row: RevocationRow, providerName: string | null): RevocationView {
  return {
    id: row.id,
    connectionId: row.connectionId,
    connection: row.connectionName,
    provider: providerName,
    tokenTypeHint: row.tokenTypeHint,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.nextAttemptAt : null,
    lastError: row.lastError,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    finishedAt: row.finishedAt,
  };
}

/** The claim a sender holds on a job while its request is in flight. */
function claimUntil(deps: RevocationDeps): string {
  return new Date(deps.clock.now().getTime() + (deps.settings.timeoutSeconds + 30) * 1000).toISOString();
}

/**
 * Deletes a connection, revoking its grant at the provider (RFC 7009: the
 * refresh token, else the access token). The token to revoke is first written,
 * sealed, into a revocation job in the same transaction as the delete, so a
 * provider failure or a crash leaves a job that keeps trying.
 */
export async function deleteConnection(deps: RevocationDeps, connection: Connection, owner: string): Promise<ConnectionDeletion> {
  // The grant is revoked by the client that minted it (a provider may hold several).
  // Only a provider that is gone means "nothing to revoke with"; any other failure (database, integrity) is not swallowed.
  const provider = await deps.providers.forConnection(connection).catch(onlyNotFound);
  const tokens = await openTokens(deps.keyring, connection.id, connection.sealedTokens).catch(() => ({}) as Record<string, undefined>);
  const hint = tokens.refreshToken !== undefined ? 'refresh_token' : 'access_token';
  const token = tokens.refreshToken ?? tokens.accessToken;
  if (provider === undefined || provider.revocationEndpoint === null || token === undefined) {
    await deps.store.connections.remove(connection.id);
    return { revokedAtProvider: false, revocation: null };
  }
  const id = newId('rev');
  const now = deps.clock.now().toISOString();
  // Sealed with the token, so removing the provider (mcp-servers remove --force, providers remove --force)
  // does not leave a retry with nothing to revoke with.
  const { sealedClientSecret: _sealed, ...visible } = provider;
  const clientSecret = await deps.providers.clientSecretOf(provider);
  const client: SealedClient = { provider: visible, ...(clientSecret === undefined ? {} : { clientSecret }) };
  const job: RevocationRow = {
    id,
    connectionId: connection.id,
    connectionName: connection.name,
    providerId: provider.id,
    clientId: provider.clientId,
    providerClientId: connection.providerClientId,
    tokenTypeHint: hint,
    token: await deps.keyring.seal(token, tokenContext(id)),
    client: await deps.keyring.seal(JSON.stringify(client), clientContext(id)),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    claimOwner: owner,
    claimUntil: claimUntil(deps),
    lastError: null,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
  };
  await deps.store.transaction(async (tx) => {
    await tx.revocations.insert(job);
    await tx.connections.remove(connection.id);
  });
  const done = await attemptRevocation(deps, job, owner);
  return { revokedAtProvider: done.status === 'revoked', revocation: toRevocationView(done, provider.name) };
}

/** One attempt of a claimed job; returns the job as it now stands. */
export async function attemptRevocation(deps: RevocationDeps, job: RevocationRow, owner: string): Promise<RevocationRow> {
  const { store, clock, logger, settings } = deps;
  const attempts = job.attempts + 1;
  const revoker = await revokerOf(deps, job);
  const provider = revoker?.provider;
  let error: string;
  let permanent = false;
  if (revoker === undefined || revoker.provider.revocationEndpoint === null || job.token === null) {
    error = revoker === undefined ? 'the provider no longer exists' : 'the provider has no revocation endpoint any more';
    permanent = true;
  } else {
    try {
      const token = await deps.keyring.openString(job.token, tokenContext(job.id));
      await tokenRevocation(revoker.provider, token, job.tokenTypeHint === 'refresh_token' ? 'refresh_token' : 'access_token', {
        clientSecret: await revoker.clientSecret(),
        allowHttpLoopback: settings.allowHttpLoopback,
        timeoutSeconds: settings.timeoutSeconds,
        fetch: settings.fetch,
      });
      const at = clock.now().toISOString();
      await store.revocations.markRevoked(job.id, owner, { attempts, at });
      logger.info({ connection: job.connectionName, revocation: job.id, attempts }, 'token revoked at the provider');
      return { ...job, status: 'revoked', attempts, token: null, client: null, lastError: null, updatedAt: at, finishedAt: at };
    } catch (err) {
      const failure = classifyTokenEndpointError(err);
      error = failure.description.replace(/^token endpoint/, 'revocation endpoint');
      // The provider understood and said no (e.g. unsupported_token_type): asking again will not help.
      permanent = failure.kind === 'refused' || failure.kind === 'rejected_grant';
    }
  }
  const now = clock.now();
  const tooOld = now.getTime() - Date.parse(job.createdAt) >= settings.maxAgeSeconds * 1000;
  if (permanent || attempts >= settings.maxAttempts || tooOld) {
    const at = now.toISOString();
    await store.revocations.markFailed(job.id, owner, { attempts, lastError: error, at });
    logger.error({ connection: job.connectionName, revocation: job.id, attempts, reason: error }, 'gave up revoking a token at the provider');
    await deps.emit('connection.revocation_failed', {
      id: job.connectionId,
      name: job.connectionName,
      ...(provider === undefined ? {} : { provider: provider.name }),
      status: 'revoked',
      lastError: error,
      revocation: job.id,
      attempts,
    });
    return { ...job, status: 'failed', attempts, token: null, client: null, lastError: error, updatedAt: at, finishedAt: at };
  }
  const wait = backoffSeconds(attempts, settings.backoff);
  const nextAttemptAt = new Date(now.getTime() + wait * 1000).toISOString();
  await store.revocations.scheduleRetry(job.id, owner, { attempts, nextAttemptAt, lastError: error, updatedAt: now.toISOString() });
  logger.warn({ connection: job.connectionName, revocation: job.id, attempts, retryInSeconds: wait, reason: error }, 'revocation at the provider failed; will retry');
  return { ...job, attempts, nextAttemptAt, lastError: error, updatedAt: now.toISOString() };
}

/**
 * Retries pending revocation jobs until the provider confirms or the job is
 * given up. Every replica runs it; the claim on each job keeps two from
 * sending the same one at once, and everything is in the database, so a
 * restart carries on.
 */
export class RevocationWorker {
  readonly #deps: RevocationDeps;
  readonly #intervalSeconds: number;
  readonly owner = newId('rvk');
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #lastPrune = 0;

  constructor(deps: RevocationDeps, options: { intervalSeconds: number }) {
    this.#deps = deps;
    this.#intervalSeconds = options.intervalSeconds;
  }

  start(): void {
    if (this.#intervalSeconds <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      void this.runOnce().catch((err: unknown) =>
        this.#deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'revocation pass failed'),
      );
    }, this.#intervalSeconds * 1000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** Deletes a connection, revoking its grant now or through a job that keeps trying. */
  deleteConnection(connection: Connection): Promise<ConnectionDeletion> {
    return deleteConnection(this.#deps, connection, this.owner);
  }

  /** Jobs, newest first (`GET /v1/revocations`). */
  async list(filter: { status?: string } = {}, page?: Keyset): Promise<RevocationView[]> {
    const names = new Map((await this.#deps.providers.list()).map((p) => [p.id, p.name]));
    return (await this.#deps.store.revocations.list(filter, page)).map((r) => toRevocationView(r, names.get(r.providerId) ?? null));
  }

  /** One pass over due jobs; resolves with how many it attempted. */
  runOnce(): Promise<number> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #pass(): Promise<number> {
    const { store, clock } = this.#deps;
    await this.#pruneDaily();
    let attempted = 0;
    for (const job of await store.revocations.due(clock.now().toISOString(), 100)) {
      if (!(await store.revocations.claim(job.id, this.owner, clock.now().toISOString(), claimUntil(this.#deps)))) continue;
      await attemptRevocation(this.#deps, job, this.owner);
      attempted += 1;
    }
    return attempted;
  }

  /** Finished jobs are kept 7 days for people to look at, then forgotten. */
  async #pruneDaily(): Promise<void> {
    const now = this.#deps.clock.now().getTime();
    if (now - this.#lastPrune < 86400_000) return;
    this.#lastPrune = now;
    await this.#deps.store.revocations.pruneFinished(new Date(now - 7 * 86400_000).toISOString());
  }
}

function onlyNotFound(err: unknown): undefined {
  if (err instanceof NotFound) return undefined;
  throw err;
}
