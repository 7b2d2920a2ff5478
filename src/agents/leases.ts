import { agentActorOf } from './actor.js';
import type { AuditLog } from '../audit/index.js';
import { ADMIN_ACTOR, type Actor } from '../audit/index.js';
import type { Clock } from '../clock.js';
import type { Connection, ConnectionRegistry } from '../connections/index.js';
import type { Keyring } from '../crypto/index.js';
import { parseDuration } from '../duration.js';
import { Forbidden, InvalidRequest, LeaseUnbounded, NotFound, ProviderUnavailable, isLatchkeyError } from '../errors.js';
import { newId } from '../ids.js';
import type { Keyset, Store } from '../store/index.js';
import type { TokenService } from '../tokens/index.js';
import { DEFAULT_LEASE_TTL_SECONDS, mayUseConnection } from './policy.js';
import type { AuthenticatedAgent } from './registry.js';

export interface LeaseGranted {
  leaseId: string;
  accessToken: string;
  tokenType: string;
  scopes: string[];
  expiresAt: string;
  tokenExpiresAt: string | null;
}

export interface LeaseEnded {
  /** False when the lease had already ended. */
  ended: boolean;
  revokedAtProvider: boolean;
  /** With rotate: whether the connection was refreshed (null without rotate). */
  refreshed: boolean | null;
  /** With rotate, when the refresh failed: its error code (e.g. needs_reauth). */
  refreshError: string | null;
}

export interface LeaseView {
  id: string;
  agentId: string;
  agent: string | null;
  connection: string | null;
  scopes: string[];
  createdAt: string;
  /** When the lease ends ... */
  expiresAt: string;
  /** ... next to when the leased token itself expires. */
  tokenExpiresAt: string | null;
}

export interface LeaseDeps {
  store: Store;
  keyring: Keyring;
  clock: Clock;
  tokens: TokenService;
  connections: ConnectionRegistry;
  audit: AuditLog;
  refreshSkewSeconds: number;
}

function leaseContext(leaseId: string) {
  return { table: 'leases', rowId: leaseId, column: 'token' };
}

/**
 * The lease length: the shortest of what was asked for, the policy's maxTtl
 * and the token's remaining life minus the refresh skew, so a lease never
 * outlives its token or its policy. (A token without expiry is leased only
 * under a maxTtl; create() refuses it otherwise.)
 */
export function leaseSeconds(input: { requested: number; maxTtl: number | undefined; now: Date; tokenExpiresAt: string | null; skewSeconds: number }): number {
  const limits = [input.requested];
  if (input.maxTtl !== undefined) limits.push(input.maxTtl);
  if (input.tokenExpiresAt !== null) {
    limits.push(Math.floor((new Date(input.tokenExpiresAt).getTime() - input.now.getTime()) / 1000) - input.skewSeconds);
  }
  return Math.min(...limits);
}

export function leaseService(deps: LeaseDeps) {
  const { store, clock, audit } = deps;

  async function visible(agent: AuthenticatedAgent, name: string): Promise<Connection> {
    const connection = await deps.connections.find(name);
    if (connection === undefined || connection.environment !== agent.environment) {
      throw new NotFound(`connection "${name}" does not exist`);
    }
    return connection;
  }

  async function denied(actor: Actor, connection: string | null, reason: string, operation: string): Promise<void> {
    await audit.record({ actor, action: 'auth.denied', connection, outcome: 'denied', detail: { reason, operation } });
  }

  async function create(agent: AuthenticatedAgent, input: { connection: string; ttl?: string | number }): Promise<LeaseGranted> {
    const actor = agentActorOf(agent);
    let connection: Connection;
    let requested: number;
    try {
      if (!agent.policy.lease.allowed) throw new Forbidden(`agent "${agent.name}" may not lease tokens`);
      connection = await visible(agent, input.connection);
      if (!mayUseConnection(agent.policy, connection.name)) {
        throw new Forbidden(`agent "${agent.name}" may not use connection "${connection.name}"`);
      }
      const parsed = parseDuration(input.ttl ?? agent.policy.lease.maxTtl ?? DEFAULT_LEASE_TTL_SECONDS);
      if (parsed === undefined || parsed <= 0) throw new InvalidRequest('ttl must be a positive duration such as "15m"');
      requested = parsed;
    } catch (err) {
      if (err instanceof Forbidden || err instanceof NotFound) await denied(actor, input.connection, err.code, 'lease.create');
      throw err;
    }
    const grant = await deps.tokens.getValidToken(connection);
    if (grant.expiresAt === null && agent.policy.lease.maxTtl === undefined) {
      // The agent's own ttl is no bound: nothing the operator set would ever end this copy of the token.
      await denied(actor, connection.name, 'lease_unbounded', 'lease.create');
      throw new LeaseUnbounded(`the token of connection "${connection.name}" does not expire and the agent's policy sets no lease.maxTtl`);
    }
    const now = clock.now();
    const seconds = leaseSeconds({
      requested,
      maxTtl: agent.policy.lease.maxTtl,
      now,
      tokenExpiresAt: grant.expiresAt,
      skewSeconds: deps.refreshSkewSeconds,
    });
    if (seconds <= 0) throw new ProviderUnavailable('the access token is about to expire; try again after it is refreshed', 1);
    const id = newId('lse');
    const expiresAt = new Date(now.getTime() + seconds * 1000).toISOString();
    // Housekeeping rides on lease creation: dead copies of leased tokens are dropped.
    await store.leases.forgetExpiredTokens(now.toISOString());
    await store.leases.insert({
      id,
      agentId: agent.id,
      connectionId: connection.id,
      token: await deps.keyring.seal(grant.accessToken, leaseContext(id)),
      scopes: grant.scopes,
      expiresAt,
      tokenExpiresAt: grant.expiresAt,
      createdAt: now.toISOString(),
      endedAt: null,
    });
    try {
      await audit.record({ actor, action: 'lease.create', connection: connection.name, outcome: 'success', detail: { leaseId: id, seconds, expiresAt } });
    } catch (err) {
      // Fail closed: a lease that could not be audited is never handed out.
      await store.leases.end(id, clock.now().toISOString());
      throw err;
    }
    return { leaseId: id, accessToken: grant.accessToken, tokenType: grant.tokenType, scopes: grant.scopes, expiresAt, tokenExpiresAt: grant.expiresAt };
  }

  /**
   * Ends a lease (an agent only its own). With rotate, the leased access token
   * is revoked at the provider and the connection refreshed, so a leaked copy stops working.
   */
  async function end(by: AuthenticatedAgent | 'admin', leaseId: string, options: { rotate: boolean }): Promise<LeaseEnded> {
    const actor = by === 'admin' ? ADMIN_ACTOR : agentActorOf(by);
    // Rotation breaks the connection for every other user of it until the refresh lands (or for good, on
    // providers that revoke the whole grant), so an agent needs its own policy flag; the operator always may.
    if (options.rotate && by !== 'admin' && by.policy.lease.rotate !== true) {
      await denied(actor, null, 'forbidden', 'lease.rotate');
      throw new Forbidden(`agent "${by.name}" may not rotate leases (policy.lease.rotate)`);
    }
    const lease = await store.leases.findById(leaseId);
    if (lease === undefined || (by !== 'admin' && lease.agentId !== by.id)) throw new NotFound(`lease ${leaseId} does not exist`);
    const connection = await deps.connections.find(lease.connectionId);
    let revokedAtProvider = false;
    let refreshed: boolean | null = null;
    let refreshError: string | null = null;
    if (options.rotate && connection !== undefined) {
      const token = lease.token === null ? undefined : await deps.keyring.openString(lease.token, leaseContext(lease.id));
      // Revoke first: refreshing first would leave the leaked token alive if the revocation then failed.
      if (token !== undefined) revokedAtProvider = await deps.tokens.revokeAtProvider(connection, 'access_token', token);
      try {
        await deps.tokens.forceRefresh(connection);
        refreshed = true;
      } catch (err) {
        // Some providers (oidc-provider, Google) revoke the whole grant with one token; the connection then needs reauth.
        if (!isLatchkeyError(err)) throw err;
        refreshed = false;
        refreshError = err.code;
      }
    }
    const ended = await store.leases.end(lease.id, clock.now().toISOString());
    await audit.record({
      actor,
      action: 'lease.revoke',
      connection: connection?.name ?? null,
      outcome: 'success',
      detail: { leaseId: lease.id, rotate: options.rotate, revokedAtProvider, refreshed, refreshError },
    });
    return { ended, revokedAtProvider, refreshed, refreshError };
  }

  async function listActive(filter: { agentId?: string } = {}, page?: Keyset): Promise<LeaseView[]> {
    const rows = await store.leases.listActive(clock.now().toISOString(), filter, page);
    const agents = new Map<string, string | null>();
    const connections = new Map<string, string | null>();
    const out: LeaseView[] = [];
    for (const r of rows) {
      if (!agents.has(r.agentId)) agents.set(r.agentId, (await store.agents.findById(r.agentId))?.name ?? null);
      if (!connections.has(r.connectionId)) connections.set(r.connectionId, (await deps.connections.find(r.connectionId))?.name ?? null);
      out.push({
        id: r.id,
        agentId: r.agentId,
        agent: agents.get(r.agentId) ?? null,
        connection: connections.get(r.connectionId) ?? null,
        scopes: r.scopes,
        createdAt: r.createdAt,
        expiresAt: r.expiresAt,
        tokenExpiresAt: r.tokenExpiresAt,
      });
    }
    return out;
  }

  return { create, end, listActive };
}

export type LeaseService = ReturnType<typeof leaseService>;
