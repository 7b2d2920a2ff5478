import type { Clock } from '../clock.js';
import { fromRow, type Connection, type ConnectionRegistry } from '../connections/index.js';
import { Conflict, InvalidRequest, NotFound } from '../errors.js';
import { newId } from '../ids.js';
import type { OutboundFetch } from '../net/index.js';
import { redirectUriOf } from '../oauth/index.js';
import { checkEndpointUrl, discover, type Provider, type ProviderRegistry } from '../providers/index.js';
import { isUniqueViolation, type Keyset, type McpServerRow, type Store } from '../store/index.js';
import type { ConnectionDeletion } from '../tokens/index.js';
import { MAX_DISCOVERY_RESPONSE_BYTES, guardedFetch } from './fetch.js';
import { discoverProtectedResource, registerClient } from './registration.js';

/** An upstream MCP server as the API shows it (never a secret). */
export interface McpServerView {
  id: string;
  name: string;
  url: string;
  /** The RFC 8707 resource indicator Latchkey sends on authorization and token requests. */
  resource: string;
  /** The provider its connections belong to (same name): connect it like any provider. */
  provider: string;
  issuer: string;
  registration: 'cimd' | 'dcr' | 'manual';
  clientId: string | null;
  scopes: string[];
  resourceMetadataUrl: string;
  createdAt: string;
  updatedAt: string;
}

export interface McpServerInput {
  name: string;
  url: string;
  clientId?: string;
  clientSecret?: string;
}

export interface ServerDeps {
  store: Store;
  clock: Clock;
  providers: ProviderRegistry;
  connections: ConnectionRegistry;
  fetch: OutboundFetch;
  allowHttpLoopback: boolean;
  publicUrl: () => string;
  /** Deletes a connection with revocation at its provider (the revocation worker's). */
  deleteConnection: (connection: Connection) => Promise<ConnectionDeletion>;
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const DISCOVERY_TIMEOUT_MS = 10_000;
/** Where Latchkey serves its own Client ID Metadata Document (under the public URL). */
export const CLIENT_METADATA_PATH = '/.well-known/latchkey-client.json';

/** Latchkey's client_id as a Client ID Metadata Document URL; only an https public URL can be one. */
export function clientMetadataUrl(publicUrl: string): string | undefined {
  return publicUrl.startsWith('https://') ? `${publicUrl.replace(/\/+$/, '')}${CLIENT_METADATA_PATH}` : undefined;
}

export function mcpServerRegistry(deps: ServerDeps) {
  const { store, providers } = deps;
  const fetchFn = guardedFetch(deps.fetch, { timeoutMs: DISCOVERY_TIMEOUT_MS, maxResponseBytes: MAX_DISCOVERY_RESPONSE_BYTES });

  function view(row: McpServerRow, provider: Provider | undefined): McpServerView {
    return {
      id: row.id,
      name: row.name,
      url: row.url,
      resource: row.resource,
      provider: provider?.name ?? row.name,
      issuer: row.issuer,
      registration: row.registration as McpServerView['registration'],
      clientId: provider?.clientId ?? null,
      scopes: provider?.scopes ?? [],
      resourceMetadataUrl: row.resourceMetadataUrl,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  async function row(name: string): Promise<McpServerRow> {
    const found = await store.mcpServers.findByName(name);
    if (found === undefined) throw new NotFound(`MCP server "${name}" does not exist`);
    return found;
  }

  /**
   * Discovers the server's protected resource and authorization server
   * metadata, registers Latchkey as a client there, and makes the provider its
   * connections will use: PKCE S256 and `resource` on authorization and token requests.
   */
  async function add(input: McpServerInput): Promise<{ server: McpServerView; provider: Provider }> {
    const { name } = input;
    if (!NAME_PATTERN.test(name)) throw new InvalidRequest('name is required: lower-case letters, digits, ".", "_" or "-", at most 63 characters');
    if (name.includes('__')) throw new InvalidRequest('name may not contain "__" (it separates server and tool in tool names)');
    if ((await store.mcpServers.findByName(name)) !== undefined) throw new Conflict(`MCP server "${name}" already exists`);
    if ((await store.providers.findByName(name)) !== undefined) {
      throw new Conflict(`a provider named "${name}" exists; an MCP server's connections use a provider of its own name`);
    }
    if (input.clientSecret !== undefined && input.clientId === undefined) throw new InvalidRequest('clientSecret needs clientId');
    const url = checkEndpointUrl('url', input.url, deps.allowHttpLoopback);
    if (url.hash !== '') throw new InvalidRequest('url must not have a fragment');
    const resource = await discoverProtectedResource(url, fetchFn, deps.allowHttpLoopback);
    const as = await discover(resource.authorizationServer, { allowHttp: deps.allowHttpLoopback, fetch: deps.fetch });
    // A refresh token is what lets Latchkey keep the connection alive without the person.
    const scopes = [...resource.scopes];
    if (as.scopesSupported?.includes('offline_access') && !scopes.includes('offline_access')) scopes.push('offline_access');
    const publicUrl = deps.publicUrl();
    const client = await registerClient(
      as,
      {
        clientMetadataUrl: clientMetadataUrl(publicUrl),
        redirectUri: redirectUriOf(publicUrl, { name, issParameterSupported: as.issParameterSupported }),
        scopes,
        ...(input.clientId === undefined ? {} : { clientId: input.clientId }),
        ...(input.clientSecret === undefined ? {} : { clientSecret: input.clientSecret }),
      },
      fetchFn,
    );
    const provider = await providers.create({
      name,
      displayName: `${name} (MCP server)`,
      issuer: as.issuer,
      clientId: client.clientId,
      ...(client.clientSecret === undefined ? {} : { clientSecret: client.clientSecret }),
      tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
      scopes,
      // RFC 8707: the token is minted for this server only, on the code exchange and every refresh alike.
      authorizeParams: { resource: resource.resource },
      quirks: { tokenParams: { resource: resource.resource } },
    });
    const now = deps.clock.now().toISOString();
    const created: McpServerRow = {
      id: newId('mcp'),
      name,
      url: url.href,
      resource: resource.resource,
      providerId: provider.id,
      issuer: as.issuer,
      registration: client.registration,
      resourceMetadataUrl: resource.metadataUrl,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await store.mcpServers.insert(created);
    } catch (err) {
      await providers.remove(name, { force: true }).catch(() => undefined);
      if (isUniqueViolation(err)) throw new Conflict(`MCP server "${name}" already exists`);
      throw err;
    }
    return { server: view(created, provider), provider };
  }

  async function get(name: string): Promise<McpServerView> {
    const found = await row(name);
    return view(found, await providers.getById(found.providerId).catch(() => undefined));
  }

  async function list(page?: Keyset): Promise<McpServerView[]> {
    const rows = await store.mcpServers.list(page);
    return Promise.all(rows.map(async (r) => view(r, await providers.getById(r.providerId).catch(() => undefined))));
  }

  /**
   * Removes the server and its provider. While connections use it this is a
   * 409 unless `force`: then each connection is deleted as DELETE
   * /v1/connections does, revoking its grant at the upstream's AS (a job that
   * keeps trying, and outlives the provider, when the AS does not confirm).
   * The provider's removal does it, so a connection made meanwhile is revoked too.
   */
  async function remove(name: string, options: { force: boolean }): Promise<{ removedConnections: number; revokedAtProvider: number }> {
    const found = await row(name);
    const inUse = await store.connections.countByProvider(found.providerId);
    if (inUse > 0 && !options.force) throw new Conflict(`MCP server "${name}" has ${inUse} connection(s); delete them first or pass force=true`);
    // The row, not the checked provider: a tampered one is removed too (its connections then without revocation).
    const provider = await store.providers.findById(found.providerId);
    if (provider === undefined) {
      await store.mcpServers.remove(found.id);
      return { removedConnections: 0, revokedAtProvider: 0 };
    }
    return providers.remove(provider.name, {
      force: true,
      mcpServerId: found.id,
      deleteConnection: async (connection) => (await deps.deleteConnection(fromRow(connection))).revokedAtProvider,
    });
  }

  /** Every redirect URI a connection to one of the servers may come back on (for the Client ID Metadata Document). */
  async function redirectUris(): Promise<string[]> {
    const publicUrl = deps.publicUrl();
    const uris = new Set([redirectUriOf(publicUrl, { name: '', issParameterSupported: true })]);
    for (const r of await store.mcpServers.list()) {
      const provider = await providers.getById(r.providerId).catch(() => undefined);
      if (provider !== undefined) uris.add(redirectUriOf(publicUrl, provider));
    }
    return [...uris];
  }

  /** The server whose provider this is, if any. */
  async function byProvider(providerId: string): Promise<McpServerRow | undefined> {
    return store.mcpServers.findByProvider(providerId);
  }

  return { add, get, list, remove, row, redirectUris, byProvider };
}

export type McpServerRegistry = ReturnType<typeof mcpServerRegistry>;
