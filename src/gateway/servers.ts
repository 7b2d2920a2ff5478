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
/**
 * Where Latchkey serves the Client ID Metadata Document of one MCP server
 * (`{path}/{name}/{id}`, under the public URL). One client id per server, listing
 * only that server's callback: a client id shared by all servers would let a
 * hostile server's AS get an honest AS to send its code to the hostile
 * server's callback (mix-up, RFC 9700 §4.4; decisions.md). The server's id
 * makes a name re-added for another server a new client, which consents given
 * to the old one do not cover.
 */
export const CLIENT_METADATA_PATH = '/.well-known/latchkey-client';
/** The one shared document of earlier versions: still served, only for the servers registered with it. */
export const LEGACY_CLIENT_METADATA_PATH = '/.well-known/latchkey-client.json';

/** A server's client_id as a Client ID Metadata Document URL (no server: the legacy shared one); only an https public URL can be one. */
export function clientMetadataUrl(publicUrl: string, server: Pick<McpServerRow, 'name' | 'id'> | undefined): string | undefined {
  if (!publicUrl.startsWith('https://')) return undefined;
  const base = publicUrl.replace(/\/+$/, '');
  if (server === undefined) return `${base}${LEGACY_CLIENT_METADATA_PATH}`;
  return `${base}${CLIENT_METADATA_PATH}/${encodeURIComponent(server.name)}/${encodeURIComponent(server.id)}`;
}

/** What a Client ID Metadata Document says about one client id (nothing secret: it is public). */
export interface ClientMetadata {
  clientId: string;
  clientName: string;
  redirectUris: string[];
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
    // Tool names are `server__tool`, split at the first "__"; a tool name may start with "_", so a server name
    // ending in "_" would make "a_" + "x" and "a" + "_x" the same name.
    if (name.includes('__') || name.endsWith('_')) {
      throw new InvalidRequest('name may not contain "__" nor end with "_" ("__" separates server and tool in tool names)');
    }
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
    const id = newId('mcp');
    const client = await registerClient(
      as,
      {
        clientMetadataUrl: clientMetadataUrl(publicUrl, { name, id }),
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
      id,
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

  /**
   * The document behind a client id: a server's own (by name and id), or
   * undefined for the legacy shared one. Only servers whose provider uses
   * exactly that client id (registered by CIMD) count, each adding only its
   * own callback; none: undefined, so no document vouches for a callback
   * under a client id that is not its server's.
   */
  async function clientMetadata(server: { name: string; id: string } | undefined): Promise<ClientMetadata | undefined> {
    const publicUrl = deps.publicUrl();
    const clientId = clientMetadataUrl(publicUrl, server);
    if (clientId === undefined) return undefined;
    let rows: McpServerRow[];
    if (server === undefined) rows = await store.mcpServers.list();
    else {
      const found = await store.mcpServers.findByName(server.name);
      rows = found?.id === server.id ? [found] : [];
    }
    const uris = new Set<string>();
    for (const r of rows) {
      if (r.registration !== 'cimd') continue;
      const provider = await providers.getById(r.providerId).catch(() => undefined);
      if (provider?.clientId !== clientId) continue;
      uris.add(redirectUriOf(publicUrl, provider));
    }
    if (uris.size === 0) return undefined;
    return { clientId, clientName: server === undefined ? 'Latchkey' : `Latchkey (${server.name})`, redirectUris: [...uris] };
  }

  /** Every server's row, by name (no provider read: the tool listing needs only the rows). */
  async function rows(): Promise<McpServerRow[]> {
    return store.mcpServers.list();
  }

  return { add, get, list, remove, row, rows, clientMetadata };
}

export type McpServerRegistry = ReturnType<typeof mcpServerRegistry>;
