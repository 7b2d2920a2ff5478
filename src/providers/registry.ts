import { isCapabilityName } from '../api/index.js';
import type { CustomFetch } from 'openid-client';
import type { Clock } from '../clock.js';
import type { Keyring } from '../crypto/index.js';
import { Conflict, InvalidIssuer, InvalidRequest, NotFound } from '../errors.js';
import { newId } from '../ids.js';
import { isForeignKeyViolation, isUniqueViolation, type ConnectionRow, type Json, type ProviderRow, type Store } from '../store/index.js';
import { providerClients, sealContextOf, secretContext, type ClientChoice, type ClientSecretInput } from './clients.js';
import { discover, type DiscoveredMetadata } from './discovery.js';
import { integrityChecker, ProviderIntegrityFailed, type IntegrityFailureListener } from './integrity.js';
import { findPreset } from './presets.js';
import { checkQuirks } from './quirks.js';
import type { Capability, ProviderQuirks, TokenEndpointAuthMethod } from './types.js';
import { checkAllowedHost, checkApiBaseUrl, checkEndpointUrl } from './urls.js';

/** What a caller may send to create or change a provider. */
export interface ProviderInput {
  name?: string;
  displayName?: string;
  preset?: string;
  issuer?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  revocationEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  userinfoEndpoint?: string;
  introspectionEndpoint?: string;
  clientId?: string;
  clientSecret?: string | null;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  scopes?: string[];
  pkce?: boolean;
  authorizeParams?: Record<string, string>;
  apiBaseUrl?: string;
  allowedHosts?: string[];
  capabilities?: Capability[];
  quirks?: ProviderQuirks;
}

/** A provider as the domain uses it, with the client secret still sealed. */
export interface Provider {
  id: string;
  name: string;
  displayName: string;
  preset: string | null;
  issuer: string | null;
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
  revocationEndpoint: string | null;
  deviceAuthorizationEndpoint: string | null;
  userinfoEndpoint: string | null;
  introspectionEndpoint: string | null;
  clientId: string | null;
  sealedClientSecret: string | null;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  scopes: string[];
  pkce: boolean;
  authorizeParams: Record<string, string>;
  apiBaseUrl: string | null;
  allowedHosts: string[];
  capabilities: Capability[];
  quirks: ProviderQuirks;
  issParameterSupported: boolean;
  createdAt: string;
  updatedAt: string;
  /**
   * Set when the client fields above are those of another of the provider's
   * clients (a connection's own, see `forConnection`); absent: the default client.
   */
  providerClientId?: string;
}

/** The API view: never the secret, only whether there is one. */
export interface PublicProvider extends Omit<Provider, 'sealedClientSecret' | 'providerClientId'> {
  hasClientSecret: boolean;
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function toPublicProvider(p: Provider): PublicProvider {
  const { sealedClientSecret, providerClientId: _client, ...rest } = p;
  return { ...rest, hasClientSecret: sealedClientSecret !== null };
}

function decodeRow(row: ProviderRow): Provider {
  const { clientSecret, integrity: _mac, ...rest } = row;
  return {
    ...rest,
    sealedClientSecret: clientSecret,
    // Rows from before PKCE was always on may say false; the flow sends S256 regardless.
    pkce: true,
    tokenEndpointAuthMethod: row.tokenEndpointAuthMethod as TokenEndpointAuthMethod,
    capabilities: row.capabilities as unknown as Capability[],
    quirks: row.quirks as ProviderQuirks,
  };
}

/** The row for a provider, without its MAC (the registry adds it). */
function rowOf(p: Provider): ProviderRow {
  if (p.providerClientId !== undefined) throw new Error('a provider seen through another client is not the provider row');
  const { sealedClientSecret, providerClientId: _client, ...rest } = p;
  return {
    ...rest,
    clientSecret: sealedClientSecret,
    capabilities: p.capabilities as unknown as Json[],
    quirks: p.quirks as Record<string, Json>,
    integrity: null,
  };
}

/**
 * Deletes one connection of a provider being removed, revoking its grant at
 * the provider (tokens/revocations.ts: a durable job when the provider does
 * not confirm); true when the provider confirmed.
 */
export type RevokingDelete = (connection: ConnectionRow) => Promise<boolean>;

export interface ProviderRemoval {
  force: boolean;
  /** How each connection goes; without it a provider still in use is not removed, even with `force`. */
  deleteConnection?: RevokingDelete;
  /** The MCP server (its id) this provider belongs to, removed in the same transaction: only its own removal may take the provider. */
  mcpServerId?: string;
}

/** Rounds of "revoke what is there, then remove" before a provider that keeps gaining connections is refused. */
const REMOVAL_ROUNDS = 3;

export interface ProviderRegistryDeps {
  store: Store;
  keyring: Keyring;
  clock: Clock;
  allowHttpLoopback: boolean;
  /** Outbound fetch for discovery: the address-guarded one (net/). */
  fetch: CustomFetch;
  /** Discovery is injectable so unit tests need no network. */
  discover?: typeof discover;
  /** Hears of a provider row that failed its integrity check (log and audit it). */
  onIntegrityFailure?: IntegrityFailureListener;
}

export function providerRegistry(deps: ProviderRegistryDeps) {
  const { store, keyring, clock } = deps;
  const discoverMetadata = deps.discover ?? discover;
  const integrity = integrityChecker(keyring, deps.onIntegrityFailure);
  const clients = providerClients({ ...deps, integrity });

  /** Every read of a row into a Provider checks its MAC first: nothing reaches a token endpoint or the proxy unchecked. */
  async function fromRow(row: ProviderRow): Promise<Provider> {
    await integrity.verify(row);
    return decodeRow(row);
  }

  function toRow(p: Provider): ProviderRow {
    const row = rowOf(p);
    row.integrity = integrity.mac(row);
    return row;
  }

  async function get(name: string): Promise<Provider> {
    const row = await store.providers.findByName(name);
    if (row === undefined) throw new NotFound(`provider "${name}" does not exist`);
    return fromRow(row);
  }

  async function getById(id: string): Promise<Provider> {
    const row = await store.providers.findById(id);
    if (row === undefined) throw new NotFound(`provider ${id} does not exist`);
    return fromRow(row);
  }

  async function create(input: ProviderInput): Promise<Provider> {
    const name = input.name;
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw new InvalidRequest('name is required: lower-case letters, digits, ".", "_" or "-", at most 63 characters');
    }
    if ((await store.providers.findByName(name)) !== undefined) throw new Conflict(`provider "${name}" already exists`);

    let base: Partial<Provider> = {};
    if (input.preset !== undefined) {
      const preset = findPreset(input.preset);
      if (preset === undefined) throw new NotFound(`there is no preset "${input.preset}" (see GET /v1/presets)`);
      base = {
        preset: preset.name,
        displayName: preset.displayName,
        issuer: preset.issuer ?? null,
        authorizationEndpoint: preset.authorizationEndpoint,
        tokenEndpoint: preset.tokenEndpoint,
        revocationEndpoint: preset.revocationEndpoint ?? null,
        deviceAuthorizationEndpoint: preset.deviceAuthorizationEndpoint ?? null,
        userinfoEndpoint: preset.userinfoEndpoint ?? null,
        tokenEndpointAuthMethod: preset.tokenEndpointAuthMethod,
        scopes: [...preset.scopes],
        pkce: preset.pkce,
        authorizeParams: { ...(preset.authorizeParams ?? {}) },
        apiBaseUrl: preset.apiBaseUrl,
        allowedHosts: [...preset.allowedHosts],
        capabilities: preset.capabilities.map((c) => ({ ...c })),
        quirks: { ...preset.quirks },
      };
    }
    // Discovery runs only when asked for explicitly, so presets never hit the network on create.
    if (input.issuer !== undefined) {
      checkEndpointUrl('issuer', input.issuer, deps.allowHttpLoopback);
      const metadata = await discoverMetadata(input.issuer, { allowHttp: deps.allowHttpLoopback, fetch: deps.fetch });
      base = { ...base, ...checkDiscoveredHosts(fromDiscovery(metadata), input) };
    }
    const now = clock.now().toISOString();
    const id = newId('prv');
    const merged = normalise(
      {
        id,
        name,
        displayName: name,
        preset: null,
        issuer: null,
        authorizationEndpoint: null,
        tokenEndpoint: null,
        revocationEndpoint: null,
        deviceAuthorizationEndpoint: null,
        userinfoEndpoint: null,
        introspectionEndpoint: null,
        clientId: null,
        sealedClientSecret: null,
        tokenEndpointAuthMethod: input.clientSecret ? 'client_secret_basic' : 'none',
        scopes: [],
        pkce: true,
        authorizeParams: {},
        apiBaseUrl: null,
        allowedHosts: [],
        capabilities: [],
        quirks: {},
        issParameterSupported: false,
        createdAt: now,
        updatedAt: now,
        ...base,
        ...explicitFields(input),
      },
      deps.allowHttpLoopback,
    );
    if (typeof input.clientSecret === 'string') {
      merged.sealedClientSecret = await keyring.seal(input.clientSecret, secretContext(id));
    }
    try {
      await store.providers.insert(toRow(merged));
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`provider "${name}" already exists`);
      throw err;
    }
    return merged;
  }

  async function update(name: string, input: ProviderInput): Promise<Provider> {
    const current = await get(name);
    if (input.name !== undefined && input.name !== name) throw new InvalidRequest('a provider cannot be renamed');
    if (input.preset !== undefined) throw new InvalidRequest('preset can only be given when the provider is created');
    let discovered: Partial<Provider> = {};
    if (input.issuer !== undefined && input.issuer !== current.issuer) {
      checkEndpointUrl('issuer', input.issuer, deps.allowHttpLoopback);
      discovered = checkDiscoveredHosts(
        fromDiscovery(await discoverMetadata(input.issuer, { allowHttp: deps.allowHttpLoopback, fetch: deps.fetch })),
        input,
      );
    }
    const next = normalise(
      { ...current, ...discovered, ...explicitFields(input), updatedAt: clock.now().toISOString() },
      deps.allowHttpLoopback,
    );
    if (input.clientSecret === null) next.sealedClientSecret = null;
    else if (typeof input.clientSecret === 'string') {
      next.sealedClientSecret = await keyring.seal(input.clientSecret, secretContext(current.id));
    }
    await store.providers.replace(toRow(next));
    // A changed client is the fix for a provider that refused the old one: try it at once.
    if (input.clientSecret !== undefined || input.clientId !== undefined || input.tokenEndpointAuthMethod !== undefined) {
      await store.providerStatus.clear(current.id);
    }
    return next;
  }

  /**
   * Removes a provider. With `force` its connections go first, each through
   * `deleteConnection` (revoked at the provider, or a job that keeps trying);
   * the row goes only in a transaction that finds none left, so a connection a
   * consent callback makes meanwhile is revoked in the next round, never
   * deleted unrevoked. A provider that fails its integrity check is not
   * trusted with tokens: its connections are deleted without revocation
   * (removing it is the way out, docs/decisions.md).
   */
  async function remove(name: string, options: ProviderRemoval): Promise<{ removedConnections: number; revokedAtProvider: number }> {
    const row = await store.providers.findByName(name);
    if (row === undefined) throw new NotFound(`provider "${name}" does not exist`);
    const provider = decodeRow(row);
    const server = await store.mcpServers.findByProvider(provider.id);
    if (server !== undefined && server.id !== options.mcpServerId) {
      throw new Conflict(
        `provider "${name}" belongs to the MCP server "${server.name}": remove both with latchkey mcp-servers remove ${server.name} (DELETE /v1/mcp-servers/${server.name})`,
      );
    }
    const inUse = await store.connections.countByProvider(provider.id);
    if (inUse > 0 && (!options.force || options.deleteConnection === undefined)) {
      throw new Conflict(`provider "${name}" is used by ${inUse} connection(s); delete them first or pass force=true`);
    }
    const trusted = await integrity.verify(row).then(
      () => true,
      (err: unknown) => {
        if (err instanceof ProviderIntegrityFailed) return false;
        throw err;
      },
    );
    let removed = 0;
    let revoked = 0;
    for (let round = 1; ; round += 1) {
      if (trusted && options.deleteConnection !== undefined) {
        const result = await deleteEach(provider.id, options.deleteConnection);
        removed += result.removed;
        revoked += result.revoked;
      }
      try {
        const done = await store.transaction(async (tx) => {
          const left = await tx.connections.countByProvider(provider.id);
          if (left > 0 && trusted) return false;
          removed += left;
          await tx.connections.removeByProvider(provider.id);
          if (server !== undefined) await tx.mcpServers.remove(server.id);
          await tx.providerClients.removeByProvider(provider.id);
          await tx.providerStatus.clear(provider.id);
          await tx.providers.remove(provider.id);
          return true;
        });
        if (done) return { removedConnections: removed, revokedAtProvider: revoked };
      } catch (err) {
        // PostgreSQL: a connection committed between the count and the delete.
        if (!isForeignKeyViolation(err)) throw err;
      }
      if (round >= REMOVAL_ROUNDS) {
        throw new Conflict(`connections to provider "${name}" keep being made while it is removed; try again`);
      }
    }
  }

  /** Deletes every connection of the provider through `deleteConnection`, a page at a time, until none is left. */
  async function deleteEach(providerId: string, deleteConnection: RevokingDelete): Promise<{ removed: number; revoked: number }> {
    let removed = 0;
    let revoked = 0;
    for (let page = await store.connections.list({ providerId }, { limit: 100 }); page.length > 0; page = await store.connections.list({ providerId }, { limit: 100 })) {
      for (const connection of page) {
        const confirmed = await deleteConnection(connection).catch(async (err: unknown) => {
          // A connection's own client row that fails its check is not trusted with the token either.
          if (!(err instanceof ProviderIntegrityFailed)) throw err;
          await store.connections.remove(connection.id);
          return false;
        });
        removed += 1;
        if (confirmed) revoked += 1;
      }
    }
    return { removed, revoked };
  }

  async function list(): Promise<Provider[]> {
    return Promise.all((await store.providers.list()).map(fromRow));
  }

  /** The client secret in clear, for the token endpoint only. */
  async function clientSecretOf(provider: Provider): Promise<string | undefined> {
    if (provider.sealedClientSecret === null) return undefined;
    return keyring.openString(provider.sealedClientSecret, sealContextOf(provider));
  }

  /** The provider as the client that minted a connection's grant sees it: refresh and revocation use this. */
  async function forConnection(connection: { providerId: string; providerClientId: string | null }): Promise<Provider> {
    return clients.withClient(await getById(connection.providerId), connection.providerClientId);
  }

  /** The OAuth client id (public) a connection refreshes with. */
  async function clientIdFor(connection: { providerId: string; providerClientId: string | null }): Promise<string | null> {
    return (await forConnection(connection)).clientId;
  }

  async function listClients(name: string) {
    return clients.list(await get(name));
  }

  /** Selects or makes the client an imported grant was minted with (see clients.ts). */
  async function clientForImport(provider: Provider, choice: ClientChoice) {
    return clients.forImport(provider, choice);
  }

  return {
    create,
    update,
    remove,
    get,
    getById,
    list,
    clientSecretOf,
    forConnection,
    clientIdFor,
    listClients,
    clientForImport,
    /** Fills in the MACs of rows from before migration 0014; called only by the start that applied it. */
    sealUpgradedRows: async (): Promise<number> => {
      let sealed = 0;
      for (const row of await store.providers.list()) {
        if (row.integrity !== null) continue;
        await store.providers.setIntegrityIfMissing(row.id, integrity.mac(row));
        sealed += 1;
      }
      for (const row of await store.providerClients.listAll()) {
        if (row.integrity !== null) continue;
        await store.providerClients.setIntegrityIfMissing(row.id, integrity.clientMac(row));
        sealed += 1;
      }
      return sealed;
    },
    updateClient: async (name: string, id: string, input: ClientSecretInput) => clients.update(await get(name), id, input),
    removeUnusedClient: clients.removeUnused,
  };
}

export type ProviderRegistry = ReturnType<typeof providerRegistry>;

function fromDiscovery(m: DiscoveredMetadata): Partial<Provider> {
  const out: Partial<Provider> = { issuer: m.issuer, issParameterSupported: m.issParameterSupported };
  if (m.authorizationEndpoint) out.authorizationEndpoint = m.authorizationEndpoint;
  if (m.tokenEndpoint) out.tokenEndpoint = m.tokenEndpoint;
  if (m.revocationEndpoint) out.revocationEndpoint = m.revocationEndpoint;
  if (m.deviceAuthorizationEndpoint) out.deviceAuthorizationEndpoint = m.deviceAuthorizationEndpoint;
  if (m.userinfoEndpoint) out.userinfoEndpoint = m.userinfoEndpoint;
  if (m.introspectionEndpoint) out.introspectionEndpoint = m.introspectionEndpoint;
  return out;
}

/**
 * Mix-up defence (RFC 9700 §4.4): a discovery document may not send tokens or
 * users to another host than its issuer's. Such an endpoint is taken only when
 * the operator gives that field explicitly (Google's token endpoint is on
 * oauth2.googleapis.com, for instance).
 */
function checkDiscoveredHosts(discovered: Partial<Provider>, explicit: ProviderInput): Partial<Provider> {
  const issuerHost = new URL(discovered.issuer ?? '').host;
  for (const field of ENDPOINT_FIELDS) {
    const value = discovered[field];
    if (typeof value !== 'string' || explicit[field] !== undefined) continue;
    let host: string;
    try {
      host = new URL(value).host;
    } catch {
      throw new InvalidRequest(`the discovery document's ${field} is not a URL`);
    }
    if (host !== issuerHost) {
      throw new InvalidIssuer(
        `the discovery document puts ${field} on ${host}, not on the issuer's host ${issuerHost}; give ${field} explicitly to accept it`,
      );
    }
  }
  return discovered;
}

/** Only the fields the caller actually sent, so they override preset and discovery values. */
function explicitFields(input: ProviderInput): Partial<Provider> {
  const out: Partial<Provider> = {};
  const keys = [
    'displayName',
    'issuer',
    'authorizationEndpoint',
    'tokenEndpoint',
    'revocationEndpoint',
    'deviceAuthorizationEndpoint',
    'userinfoEndpoint',
    'introspectionEndpoint',
    'clientId',
    'tokenEndpointAuthMethod',
    'scopes',
    'pkce',
    'authorizeParams',
    'apiBaseUrl',
    'allowedHosts',
    'capabilities',
    'quirks',
  ] as const;
  for (const key of keys) {
    if (input[key] !== undefined) (out as Record<string, unknown>)[key] = input[key];
  }
  return out;
}

const ENDPOINT_FIELDS = [
  'authorizationEndpoint',
  'tokenEndpoint',
  'revocationEndpoint',
  'deviceAuthorizationEndpoint',
  'userinfoEndpoint',
  'introspectionEndpoint',
] as const;

/** Validates a complete provider and canonicalises URLs and hosts. */
function normalise(p: Provider, allowHttpLoopback: boolean): Provider {
  if (!p.pkce) {
    throw new InvalidRequest('pkce cannot be turned off: Latchkey always sends PKCE (S256), which a server that does not support it ignores');
  }
  for (const field of ENDPOINT_FIELDS) {
    const value = p[field];
    if (value !== null && value !== undefined) p[field] = checkEndpointUrl(field, value, allowHttpLoopback).href;
  }
  if (p.tokenEndpoint === null) {
    throw new InvalidRequest('tokenEndpoint is required: give it, a preset, or an issuer to discover it from');
  }
  if (p.apiBaseUrl !== null) p.apiBaseUrl = checkApiBaseUrl('apiBaseUrl', p.apiBaseUrl, allowHttpLoopback);
  p.allowedHosts = [...new Set(p.allowedHosts.map((h) => checkAllowedHost(h, allowHttpLoopback)))];
  p.scopes = [...new Set(p.scopes.map((s) => s.trim()).filter(Boolean))];
  p.quirks = checkQuirks(p.quirks, allowHttpLoopback);
  for (const cap of p.capabilities) {
    if (!isCapabilityName(cap.name)) throw new InvalidRequest(`capability name "${cap.name}" is not valid`);
    if (cap.methods.length === 0 || cap.pathPrefixes.length === 0) {
      throw new InvalidRequest(`capability "${cap.name}" needs at least one method and one path prefix`);
    }
    cap.methods = cap.methods.map((m) => m.toUpperCase());
    for (const prefix of cap.pathPrefixes) {
      if (!prefix.startsWith('/')) throw new InvalidRequest(`capability "${cap.name}": path prefixes start with "/"`);
    }
    if (cap.hosts !== undefined) cap.hosts = cap.hosts.map((h) => checkAllowedHost(h, allowHttpLoopback));
  }
  if (new Set(p.capabilities.map((c) => c.name)).size !== p.capabilities.length) {
    throw new InvalidRequest('capability names must be unique');
  }
  return p;
}
