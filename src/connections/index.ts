import type { Clock } from '../clock.js';
import { CONNECTION_NAME_RULE, isConnectionName } from '../api/index.js';
import { Conflict, InvalidRequest, NotFound } from '../errors.js';
import { newId } from '../ids.js';
import type { Provider, ProviderRegistry } from '../providers/index.js';
import { isUniqueViolation, type ConnectionRow, type Json, type Keyset, type Store } from '../store/index.js';

export const CONNECTION_STATUSES = ['pending', 'active', 'needs_reauth', 'revoked', 'error'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];
export const GRANT_TYPES = ['authorization_code', 'device_code', 'client_credentials', 'imported'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** The connection record. `sealedTokens` is only ever read by tokens/. */
export type Connection = Omit<ConnectionRow, 'status' | 'grantType' | 'tokens'> & {
  status: ConnectionStatus;
  grantType: GrantType;
  sealedTokens: string | null;
};

/** The API view of a connection: never a token. */
export interface PublicConnection {
  id: string;
  name: string;
  provider: string;
  subject: string | null;
  environment: string;
  grantType: GrantType;
  status: ConnectionStatus;
  scopes: string[];
  expiresAt: string | null;
  refreshTokenExpiresAt: string | null;
  lastRefreshedAt: string | null;
  lastUsedAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  metadata: Record<string, Json>;
  /** Where this connection's API calls go when it is not the provider's apiBaseUrl (Salesforce's instance_url). */
  apiBaseUrl: string | null;
  /** The OAuth client id (public) the connection refreshes and revokes with. */
  clientId: string | null;
}

export function toPublicConnection(c: Connection, providerName: string, clientId: string | null = null): PublicConnection {
  return {
    id: c.id,
    name: c.name,
    provider: providerName,
    subject: c.subject,
    environment: c.environment,
    grantType: c.grantType,
    status: c.status,
    scopes: c.scopes,
    expiresAt: c.expiresAt,
    refreshTokenExpiresAt: c.refreshTokenExpiresAt,
    lastRefreshedAt: c.lastRefreshedAt,
    lastUsedAt: c.lastUsedAt,
    lastError: c.lastError,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    metadata: c.metadata,
    apiBaseUrl: c.apiBaseUrl,
    clientId,
  };
}

export function fromRow(row: ConnectionRow): Connection {
  const { tokens, ...rest } = row;
  return { ...rest, status: row.status as ConnectionStatus, grantType: row.grantType as GrantType, sealedTokens: tokens };
}

const ENV_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export interface NewConnection {
  /** Set when tokens were sealed for this id before the insert. */
  id?: string;
  name?: string;
  provider: Provider;
  subject?: string | null;
  environment?: string;
  grantType: GrantType;
  status: ConnectionStatus;
  scopes?: string[];
  metadata?: Record<string, Json>;
  apiBaseUrl?: string | null;
  /** The provider client that minted the grant (ProviderRegistry.clientForImport); absent: the default client. */
  providerClientId?: string | null;
  sealedTokens?: string | null;
  tokenType?: string | null;
  expiresAt?: string | null;
  refreshTokenExpiresAt?: string | null;
  lastRefreshedAt?: string | null;
}

export interface ListFilter {
  provider?: string;
  environment?: string;
  status?: string;
  subject?: string;
  /** Seconds: only connections whose access token expires within this window. */
  expiringWithin?: number;
}

export function checkConnectionName(name: string): string {
  if (!isConnectionName(name)) throw new InvalidRequest(CONNECTION_NAME_RULE);
  if (/^conn_/.test(name)) throw new InvalidRequest('connection names may not start with "conn_" (reserved for ids)');
  return name;
}

export function checkEnvironment(env: string): string {
  if (!ENV_PATTERN.test(env)) {
    throw new InvalidRequest('environment must be lower-case letters, digits, ".", "_" or "-"');
  }
  return env;
}

export function connectionRegistry(deps: { store: Store; clock: Clock; providers: ProviderRegistry }) {
  const { store, clock, providers } = deps;

  async function find(idOrName: string): Promise<Connection | undefined> {
    const row = idOrName.startsWith('conn_')
      ? await store.connections.findById(idOrName)
      : await store.connections.findByName(idOrName);
    return row === undefined ? undefined : fromRow(row);
  }

  async function get(idOrName: string): Promise<Connection> {
    const conn = await find(idOrName);
    if (conn === undefined) throw new NotFound(`connection "${idOrName}" does not exist`);
    return conn;
  }

  /** A free name: the one asked for (which must be free), else provider[-subject][-n]. */
  async function chooseName(requested: string | undefined, provider: Provider, subject: string | null): Promise<string> {
    if (requested !== undefined) {
      checkConnectionName(requested);
      if ((await store.connections.findByName(requested)) !== undefined) {
        throw new Conflict(`connection "${requested}" already exists`);
      }
      return requested;
    }
    // Cut before the uniqueness check (and leave room for "-999" or "-" and 8 id characters), so the
    // name checked for being free is the one stored, and a long subject still makes a valid name.
    const stem = (subject === null ? provider.name : `${provider.name}-${subject.replace(/[^a-zA-Z0-9._-]/g, '-')}`).slice(0, 119);
    for (let n = 1; n < 1000; n += 1) {
      const candidate = n === 1 ? stem : `${stem}-${n}`;
      if ((await store.connections.findByName(candidate)) === undefined) return checkConnectionName(candidate);
    }
    return checkConnectionName(`${stem}-${newId('x').slice(2, 10)}`);
  }

  async function create(input: NewConnection): Promise<Connection> {
    const subject = input.subject ?? null;
    const environment = checkEnvironment(input.environment ?? 'default');
    const name = await chooseName(input.name, input.provider, subject);
    const now = clock.now().toISOString();
    const row: Omit<ConnectionRow, 'version' | 'failureCount'> = {
      id: input.id ?? newId('conn'),
      name,
      providerId: input.provider.id,
      subject,
      environment,
      grantType: input.grantType,
      status: input.status,
      scopes: input.scopes ?? [],
      tokenType: input.tokenType ?? null,
      tokens: input.sealedTokens ?? null,
      expiresAt: input.expiresAt ?? null,
      refreshTokenExpiresAt: input.refreshTokenExpiresAt ?? null,
      lastRefreshedAt: input.lastRefreshedAt ?? null,
      lastUsedAt: null,
      lastError: null,
      metadata: input.metadata ?? {},
      apiBaseUrl: input.apiBaseUrl ?? null,
      providerClientId: input.providerClientId ?? null,
      refreshClaimOwner: null,
      refreshClaimUntil: null,
      refreshClaimGeneration: 0,
      refreshTokenRotates: false,
      refreshIntent: null,
      nextAttemptAt: null,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await store.connections.insert(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`connection "${name}" already exists`);
      throw err;
    }
    return fromRow({ ...row, version: 0, failureCount: 0 });
  }

  async function list(filter: ListFilter = {}, page?: Keyset): Promise<Connection[]> {
    let providerId: string | undefined;
    if (filter.provider !== undefined) providerId = (await providers.get(filter.provider)).id;
    if (filter.status !== undefined && !(CONNECTION_STATUSES as readonly string[]).includes(filter.status)) {
      throw new InvalidRequest(`status must be one of ${CONNECTION_STATUSES.join(', ')}`);
    }
    const rows = await store.connections.list({
      ...(providerId === undefined ? {} : { providerId }),
      ...(filter.environment === undefined ? {} : { environment: filter.environment }),
      ...(filter.status === undefined ? {} : { status: filter.status }),
      ...(filter.subject === undefined ? {} : { subject: filter.subject }),
      ...(filter.expiringWithin === undefined
        ? {}
        : { expiresBefore: new Date(clock.now().getTime() + filter.expiringWithin * 1000).toISOString() }),
    }, page);
    return rows.map(fromRow);
  }

  async function setStatus(id: string, status: ConnectionStatus, lastError: string | null = null): Promise<void> {
    await store.connections.update(id, { status, lastError }, clock.now().toISOString());
  }

  async function touch(id: string): Promise<void> {
    await store.connections.update(id, { lastUsedAt: clock.now().toISOString() }, clock.now().toISOString());
  }

  async function remove(id: string): Promise<void> {
    await store.connections.remove(id);
  }

  /** Public JSON for many connections, resolving provider names and client ids once each. */
  async function present(conns: Connection[]): Promise<PublicConnection[]> {
    const names = new Map<string, string>();
    const clientIds = new Map<string, string | null>();
    const clientKey = (c: Connection): string => `${c.providerId} ${c.providerClientId ?? ''}`;
    for (const c of conns) {
      if (!names.has(c.providerId)) names.set(c.providerId, (await providers.getById(c.providerId)).name);
      if (!clientIds.has(clientKey(c))) clientIds.set(clientKey(c), await providers.clientIdFor(c));
    }
    return conns.map((c) => toPublicConnection(c, names.get(c.providerId) as string, clientIds.get(clientKey(c)) ?? null));
  }

  return { find, get, create, list, setStatus, touch, remove, present };
}

export type ConnectionRegistry = ReturnType<typeof connectionRegistry>;
