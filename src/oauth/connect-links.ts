import * as oidc from 'openid-client';
import type { Actor } from '../audit/index.js';
import type { Connection, ConnectionStatus } from '../connections/index.js';
import { Conflict, InvalidRequest, InvalidState, NotFound } from '../errors.js';
import { parseDuration } from '../duration.js';
import { newId } from '../ids.js';
import type { Provider } from '../providers/index.js';
import type { ConnectLinkRow, Keyset } from '../store/index.js';
import { beginAuthorization } from './authorization.js';
import { FlowRefused, staleAgentReconnect } from './completable.js';
import type { OAuthDeps } from './deps.js';
import { unfinishedAttempt } from './pending-connection.js';
import { openAuthorizationStart, type BrowserStart } from './start.js';
import { sha256Hex } from './state.js';

/** A week: long enough for a person to find the mail; the most an operator may choose is 30 days. */
export const LINK_DEFAULT_TTL_SECONDS = 7 * 86_400;
export const LINK_MAX_TTL_SECONDS = 30 * 86_400;
export const LINK_MIN_TTL_SECONDS = 60;
/** How long an expired link stays listed (so an operator can still see it was never used) before it is forgotten. */
export const LINK_KEEP_EXPIRED_SECONDS = 30 * 86_400;

export interface ConnectLinkInput {
  provider?: string;
  subject?: string;
  name?: string;
  environment?: string;
  scopes?: string[];
  /** Reconnect this connection (id or name) in place instead. */
  connection?: string;
  expiresIn?: string | number;
}

export type ConnectLinkStatus = 'open' | 'used' | 'expired';

/** The API view of a link: never its token. */
export interface ConnectLinkView {
  id: string;
  provider: string;
  /** The connection a reconnect link repairs, or null for a link that connects a new account. */
  connection: string | null;
  name: string | null;
  subject: string | null;
  environment: string | null;
  scopes: string[] | null;
  requestedBy: ConnectLinkRow['requestedBy'];
  status: ConnectLinkStatus;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

export interface CreatedConnectLink {
  id: string;
  url: string;
  expiresAt: string;
  /** What the link will do, for the caller's own checks and audit (the token is only in `url`). */
  view: ConnectLinkView;
}

/** What the link page shows before anything is consumed. */
export interface ConnectLinkPage {
  /** The link's id (for the audit; never shown). */
  id: string;
  status: ConnectLinkStatus;
  providerName: string;
  providerDisplayName: string;
  /** Origin of the provider's authorization endpoint (the page's form-action must allow it). */
  providerOrigin: string | null;
  scopes: string[];
  subject: string | null;
  /** The connection a reconnect link repairs, or the name a new connection will take (null: generated). */
  connectionName: string | null;
  reconnect: boolean;
  /** Why this (open) link can no longer be used, e.g. an agent's reconnect link for a connection that works again. */
  refusal: string | null;
  requestedBy: ConnectLinkRow['requestedBy'];
  expiresAt: string;
}

/** What a target of a link looks like to the caller's authorisation check (an agent's policy). */
export interface LinkTarget {
  /** The connection name the link will connect or reconnect, or null when the server will generate one. */
  name: string | null;
  environment: string;
  /** The status of the connection a reconnect link repairs; undefined for a new connection. */
  status?: ConnectionStatus;
}

/** A link that cannot be used (any more): what its page says, known from the one read that found it so. */
export class LinkGone extends InvalidState {
  constructor(readonly kind: 'used' | 'expired' | 'unknown') {
    super(
      kind === 'unknown'
        ? 'this connect link is not valid'
        : kind === 'used'
          ? 'this connect link was already used; ask for a new one'
          : 'this connect link expired; ask for a new one',
    );
  }
}

/** An agent's reconnect link for a connection that works again: refused, with what the audit records of it. */
export class LinkRefused extends FlowRefused {
  constructor(
    message: string,
    readonly link: { id: string; connectionName: string },
  ) {
    super(message);
  }
}

function statusOf(row: ConnectLinkRow, now: Date): ConnectLinkStatus {
  if (row.usedAt !== null) return 'used';
  return row.expiresAt <= now.toISOString() ? 'expired' : 'open';
}

function ttlSeconds(expiresIn: string | number | undefined): number {
  if (expiresIn === undefined) return LINK_DEFAULT_TTL_SECONDS;
  const seconds = parseDuration(expiresIn);
  if (seconds === undefined || seconds < LINK_MIN_TTL_SECONDS || seconds > LINK_MAX_TTL_SECONDS) {
    throw new InvalidRequest('expiresIn must be a duration from 60s to 30d (e.g. "1d", "12h", or seconds)');
  }
  return seconds;
}

/** A link must run the browser-bound consent: that is what keeps it from being finished elsewhere. */
function assertLinkable(provider: Provider): void {
  if (provider.authorizationEndpoint === null) {
    throw new InvalidRequest(`provider "${provider.name}" has no authorizationEndpoint; a connect link needs the authorization code flow`);
  }
  if (provider.quirks.unboundCallback === true) {
    throw new InvalidRequest(`provider "${provider.name}" does not bind its consent to a browser (unboundCallback), so it cannot be used with a connect link`);
  }
}

function originOf(url: string | null): string | null {
  if (url === null) return null;
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

export function connectLinkService(deps: OAuthDeps) {
  const publicBase = (): string => deps.config.publicUrl.replace(/\/+$/, '');

  async function view(row: ConnectLinkRow, now = deps.clock.now()): Promise<ConnectLinkView> {
    const provider = await deps.providers.getById(row.providerId).catch(() => undefined);
    const connection = row.connectionId === null ? undefined : await deps.connections.find(row.connectionId);
    return {
      id: row.id,
      provider: provider?.name ?? row.providerId,
      connection: row.connectionId === null ? null : (connection?.name ?? row.connectionId),
      name: row.name,
      subject: row.subject,
      environment: row.environment,
      scopes: row.scopes,
      requestedBy: row.requestedBy,
      status: statusOf(row, now),
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
      usedAt: row.usedAt,
    };
  }

  /** Where a reconnect link (or a new one) lands: checked now, so a bad link is refused when it is made, not when it is opened. */
  async function target(input: ConnectLinkInput): Promise<{ provider: Provider; connection: Connection | undefined }> {
    if (input.connection !== undefined) {
      const extra = (['provider', 'subject', 'name', 'environment', 'scopes'] as const).filter((k) => input[k] !== undefined);
      if (extra.length > 0) throw new InvalidRequest(`a reconnect link takes only connection and expiresIn, not ${extra.join(', ')}`);
      const connection = await deps.connections.get(input.connection);
      if (connection.grantType === 'client_credentials') {
        throw new InvalidRequest(`connection "${connection.name}" uses client credentials: no person consents, so it has no connect link`);
      }
      const provider = await deps.providers.getById(connection.providerId);
      assertLinkable(provider);
      return { provider, connection };
    }
    if (input.provider === undefined) throw new InvalidRequest('give provider (a new connection) or connection (reconnect one)');
    if (input.subject === undefined) throw new InvalidRequest('subject (whose account this link connects) is required');
    const provider = await deps.providers.get(input.provider);
    assertLinkable(provider);
    if (input.name !== undefined) {
      const existing = await deps.connections.find(input.name);
      // Only an unfinished attempt of the same provider and environment may be picked up again (checked again when the link is used).
      if (existing !== undefined && !unfinishedAttempt(existing, provider, input.environment)) {
        throw new Conflict(`connection "${input.name}" already exists; make a link with {"connection": "${input.name}"} to reconnect it`);
      }
    }
    return { provider, connection: undefined };
  }

  async function create(
    input: ConnectLinkInput,
    requestedBy: Actor,
    allow: (target: LinkTarget) => void = () => {},
  ): Promise<CreatedConnectLink> {
    const seconds = ttlSeconds(input.expiresIn);
    const { provider, connection } = await target(input);
    allow(
      connection === undefined
        ? { name: input.name ?? null, environment: input.environment ?? 'default' }
        : { name: connection.name, environment: connection.environment, status: connection.status },
    );
    const token = oidc.randomState();
    const now = deps.clock.now();
    const row: ConnectLinkRow = {
      id: newId('cl'),
      tokenHash: sha256Hex(token),
      providerId: provider.id,
      connectionId: connection?.id ?? null,
      name: connection === undefined ? (input.name ?? null) : null,
      subject: connection === undefined ? (input.subject ?? null) : connection.subject,
      environment: connection === undefined ? (input.environment ?? null) : connection.environment,
      scopes: input.scopes ?? null,
      requestedBy: { type: requestedBy.type, id: requestedBy.id, name: requestedBy.name },
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + seconds * 1000).toISOString(),
      usedAt: null,
    };
    await deps.store.connectLinks.removeExpiredBefore(new Date(now.getTime() - LINK_KEEP_EXPIRED_SECONDS * 1000).toISOString());
    await deps.store.connectLinks.insert(row);
    deps.logger.info({ link: row.id, provider: provider.name, reconnect: connection !== undefined }, 'connect link created');
    return { id: row.id, url: `${publicBase()}/connect/${token}`, expiresAt: row.expiresAt, view: await view(row, now) };
  }

  async function list(page?: Keyset): Promise<ConnectLinkView[]> {
    const now = deps.clock.now();
    return Promise.all((await deps.store.connectLinks.list(page)).map((row) => view(row, now)));
  }

  async function remove(id: string): Promise<ConnectLinkView> {
    const row = await deps.store.connectLinks.findById(id);
    if (row === undefined || !(await deps.store.connectLinks.remove(id))) throw new NotFound(`connect link "${id}" does not exist`);
    return view(row);
  }

  /** The page's facts, or undefined for a token that names no link. Opening the page changes nothing. */
  async function describe(token: string): Promise<ConnectLinkPage | undefined> {
    const row = await deps.store.connectLinks.findByTokenHash(sha256Hex(token));
    if (row === undefined) return undefined;
    const provider = await deps.providers.getById(row.providerId);
    const connection = row.connectionId === null ? undefined : await deps.connections.find(row.connectionId);
    const scopes = row.scopes ?? (connection !== undefined && connection.scopes.length > 0 ? connection.scopes : provider.scopes);
    return {
      id: row.id,
      status: statusOf(row, deps.clock.now()),
      providerName: provider.name,
      providerDisplayName: provider.displayName,
      providerOrigin: originOf(provider.authorizationEndpoint),
      scopes,
      subject: row.subject,
      connectionName: connection?.name ?? row.name,
      reconnect: row.connectionId !== null,
      refusal: connection === undefined ? null : (staleAgentReconnect(row, connection) ?? null),
      requestedBy: row.requestedBy,
      expiresAt: row.expiresAt,
    };
  }

  /**
   * The Continue button: uses the link up (once, whoever wins), starts the
   * consent flow and binds it to this browser, exactly as `/oauth/start/{token}` does.
   */
  async function consume(token: string): Promise<BrowserStart & { link: ConnectLinkRow; connection: Connection }> {
    const now = deps.clock.now();
    const row = await deps.store.connectLinks.consume(sha256Hex(token), now.toISOString());
    if (row === undefined) {
      const known = await deps.store.connectLinks.findByTokenHash(sha256Hex(token));
      throw new LinkGone(known === undefined ? 'unknown' : statusOf(known, now) === 'used' ? 'used' : 'expired');
    }
    try {
      const provider = await deps.providers.getById(row.providerId);
      assertLinkable(provider);
      let connection: Connection | undefined;
      if (row.connectionId !== null) {
        connection = await deps.connections.find(row.connectionId);
        if (connection === undefined) throw new InvalidState('the connection this link reconnects no longer exists');
        // An agent's link was allowed because the connection was broken: once repaired, it starts nothing (checked again at the callback).
        const stale = staleAgentReconnect(row, connection);
        if (stale !== undefined) throw new LinkRefused(stale, { id: row.id, connectionName: connection.name });
      }
      const scopes = row.scopes ?? (connection !== undefined && connection.scopes.length > 0 ? connection.scopes : undefined);
      const started = await beginAuthorization(
        deps,
        provider,
        {
          ...(row.name === null ? {} : { name: row.name }),
          ...(row.subject === null ? {} : { subject: row.subject }),
          ...(row.environment === null ? {} : { environment: row.environment }),
          ...(scopes === undefined ? {} : { scopes }),
        },
        { ...(connection === undefined ? { pendingOnly: true } : { connection }), connectLinkId: row.id },
      );
      if (started.startToken === undefined) throw new InvalidRequest('this provider cannot bind its consent to a browser');
      const browser = await openAuthorizationStart(deps, started.startToken);
      return { ...browser, link: row, connection: started.connection };
    } catch (err) {
      // Nothing was started in the browser: the person may try the same link again.
      await deps.store.connectLinks.release(row.id);
      throw err;
    }
  }

  return { create, list, remove, describe, consume, view };
}

export type ConnectLinkService = ReturnType<typeof connectLinkService>;
