import { HttpClient, type ClientOptions } from './http.js';
import type { Page } from '../api/index.js';
import { enc } from './paths.js';
import { fetchPage, iteratePages, type PageOptions } from './pages.js';
import type {
  ConnectionDeleted,
  RevocationView,
  AuthorizationStartView,
  ConnectRequest,
  DeviceStartView,
  ConnectionFilter,
  ConnectionImport,
  ConnectionTokenView,
  ConnectionView,
  AgentView,
  AuditEventView,
  AuditFilter,
  KeyRotation,
  LeaseView,
  McpServerCreate,
  McpServerRemoved,
  McpServerView,
  PresetView,
  ProviderClientView,
  ProviderCreate,
  ProviderView,
  WebhookCreate,
  WebhookDeliveryView,
  WebhookView,
} from './types.js';

/** The operator's client: every admin route of the REST API, one method each. */
export class LatchkeyAdmin {
  readonly http: HttpClient;

  constructor(options: ClientOptions & { adminToken?: string }) {
    this.http = new HttpClient({ ...options, token: options.adminToken ?? options.token });
  }

  presets(): Promise<PresetView[]> {
    return this.http.json('GET', '/v1/presets');
  }

  readonly providers = {
    create: (body: ProviderCreate): Promise<ProviderView> => this.http.json('POST', '/v1/providers', { body }),
    list: (): Promise<ProviderView[]> => this.http.json('GET', '/v1/providers'),
    get: async (name: string): Promise<ProviderView> => this.http.json('GET', `/v1/providers/${enc(name)}`),
    update: async (name: string, body: Partial<ProviderCreate>): Promise<ProviderView> =>
      this.http.json('PATCH', `/v1/providers/${enc(name)}`, { body }),
    remove: async (name: string, options: { force?: boolean } = {}): Promise<{ deleted: boolean }> =>
      this.http.json('DELETE', `/v1/providers/${enc(name)}`, { query: { force: options.force ? 'true' : undefined } }),
    clients: (name: string): Promise<ProviderClientView[]> => this.http.json('GET', `/v1/providers/${enc(name)}/clients`),
    updateClient: (
      name: string,
      id: string,
      body: { clientSecret?: string | null; tokenEndpointAuthMethod?: ProviderCreate['tokenEndpointAuthMethod'] },
    ): Promise<ProviderClientView> => this.http.json('PATCH', `/v1/providers/${enc(name)}/clients/${enc(id)}`, { body }),
  };

  readonly connections = {
    import: (body: ConnectionImport): Promise<ConnectionView> =>
      this.http.json('POST', '/v1/connections/import', { body }),
    /** The first page (100) as an array; `page` and `iterate` reach the rest. */
    list: (filter: ConnectionFilter = {}): Promise<ConnectionView[]> =>
      this.http.json('GET', '/v1/connections', { query: { ...filter } }),
    page: (filter: ConnectionFilter & PageOptions = {}): Promise<Page<ConnectionView>> => {
      const { limit, cursor, ...rest } = filter;
      return fetchPage(this.http, '/v1/connections', { ...rest }, { ...(limit === undefined ? {} : { limit }), ...(cursor === undefined ? {} : { cursor }) });
    },
    /** Every matching connection: `for await (const c of admin.connections.iterate({ status: 'needs_reauth' }))`. */
    iterate: (filter: ConnectionFilter = {}, options: PageOptions = {}): AsyncGenerator<ConnectionView, void, undefined> =>
      iteratePages(this.http, '/v1/connections', { ...filter }, options),
    get: async (idOrName: string): Promise<ConnectionView> => this.http.json('GET', `/v1/connections/${enc(idOrName)}`),
    refresh: async (idOrName: string): Promise<ConnectionView> =>
      this.http.json('POST', `/v1/connections/${enc(idOrName)}/refresh`),
    remove: async (idOrName: string): Promise<ConnectionDeleted> =>
      this.http.json('DELETE', `/v1/connections/${enc(idOrName)}`),
    /** The operator's own read of a valid access token (refreshed first if needed; audited). */
    token: async (idOrName: string): Promise<ConnectionTokenView> =>
      this.http.json('GET', `/v1/connections/${enc(idOrName)}/token`),
  };

  /** Durable revocation jobs left by deleted connections. */
  readonly revocations = {
    list: (query: { status?: RevocationView['status'] } = {}): Promise<RevocationView[]> =>
      this.http.json('GET', `/v1/revocations${query.status === undefined ? '' : `?status=${enc(query.status)}`}`),
    iterate: (query: { status?: RevocationView['status'] } = {}, options: PageOptions = {}): AsyncGenerator<RevocationView, void, undefined> =>
      iteratePages(this.http, '/v1/revocations', { ...query }, options),
  };

  readonly webhooks = {
    /** The response carries `secret` once: keep it to verify `Latchkey-Signature`. */
    create: (body: WebhookCreate): Promise<WebhookView & { secret: string }> =>
      this.http.json('POST', '/v1/webhooks', { body }),
    list: (): Promise<WebhookView[]> => this.http.json('GET', '/v1/webhooks'),
    iterate: (options: PageOptions = {}): AsyncGenerator<WebhookView, void, undefined> => iteratePages(this.http, '/v1/webhooks', {}, options),
    deliveries: async (id: string): Promise<WebhookDeliveryView[]> => this.http.json('GET', `/v1/webhooks/${enc(id)}/deliveries`),
    iterateDeliveries: (id: string, options: PageOptions = {}): AsyncGenerator<WebhookDeliveryView, void, undefined> =>
      iteratePages(this.http, `/v1/webhooks/${enc(id)}/deliveries`, {}, options),
    remove: async (id: string): Promise<{ deleted: boolean }> => this.http.json('DELETE', `/v1/webhooks/${enc(id)}`),
  };

  /** The ways a connection is born (authorization code, device, client credentials). */
  readonly connect = {
    authorizationCode: async (provider: string, body: ConnectRequest = {}): Promise<AuthorizationStartView> =>
      this.http.json('POST', `/v1/connect/${enc(provider)}`, { body }),
    device: async (provider: string, body: Omit<ConnectRequest, 'returnTo'> = {}): Promise<DeviceStartView> =>
      this.http.json('POST', `/v1/connect/${enc(provider)}/device`, { body }),
    clientCredentials: async (provider: string, body: Omit<ConnectRequest, 'returnTo' | 'subject'> = {}): Promise<ConnectionView> =>
      this.http.json('POST', `/v1/connect/${enc(provider)}/client-credentials`, { body }),
  };

  readonly keys = {
    rotate: (): Promise<KeyRotation> => this.http.json('POST', '/v1/keys/rotate'),
  };

  /** Agents, a page at a time (the other agent routes: see `http`). */
  readonly agents = {
    list: (): Promise<AgentView[]> => this.http.json('GET', '/v1/agents'),
    iterate: (options: PageOptions = {}): AsyncGenerator<AgentView, void, undefined> => iteratePages(this.http, '/v1/agents', {}, options),
  };

  /** Active leases, soonest to expire first. */
  readonly leases = {
    list: (): Promise<LeaseView[]> => this.http.json('GET', '/v1/leases'),
    iterate: (options: PageOptions = {}): AsyncGenerator<LeaseView, void, undefined> => iteratePages(this.http, '/v1/leases', {}, options),
  };

  /** The audit log, newest first. */
  readonly audit = {
    list: (filter: AuditFilter & { limit?: number } = {}): Promise<AuditEventView[]> => this.http.json('GET', '/v1/audit', { query: { ...filter } }),
    iterate: (filter: AuditFilter = {}, options: PageOptions = {}): AsyncGenerator<AuditEventView, void, undefined> =>
      iteratePages(this.http, '/v1/audit', { ...filter }, options),
  };

  /** Upstream MCP servers behind Latchkey: adding one discovers it and registers Latchkey as its client. */
  readonly mcpServers = {
    create: (body: McpServerCreate): Promise<McpServerView> => this.http.json('POST', '/v1/mcp-servers', { body }),
    list: (): Promise<McpServerView[]> => this.http.json('GET', '/v1/mcp-servers'),
    iterate: (options: PageOptions = {}): AsyncGenerator<McpServerView, void, undefined> => iteratePages(this.http, '/v1/mcp-servers', {}, options),
    get: async (name: string): Promise<McpServerView> => this.http.json('GET', `/v1/mcp-servers/${enc(name)}`),
    /** `force` also deletes its connections, revoking each grant at the upstream's authorization server. */
    remove: async (name: string, options: { force?: boolean } = {}): Promise<McpServerRemoved> =>
      this.http.json('DELETE', `/v1/mcp-servers/${enc(name)}`, { query: { force: options.force ? 'true' : undefined } }),
  };
}
