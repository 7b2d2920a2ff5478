import { HttpClient, type ClientOptions } from './http.js';
import type { Page } from '../api/index.js';
import { enc } from './paths.js';
import { fetchPage, iteratePages, type PageOptions } from './pages.js';
import type {
  AgentCreate,
  AgentCreated,
  AgentKeyView,
  AgentView,
  AuditEventView,
  AuditFilter,
  AuditVerifyView,
  ConnectLinkCreate,
  ConnectLinkCreated,
  ConnectLinkView,
  ConnectionDeleted,
  LeaseView,
  RevocationView,
  AuthorizationStartView,
  ConnectRequest,
  DeviceStartView,
  ConnectionFilter,
  ConnectionImport,
  ConnectionTokenView,
  ConnectionView,
  DataKeyView,
  KeyRotation,
  McpClientGrantView,
  McpConsentDecision,
  McpConsentResult,
  McpConsentView,
  McpServerCreate,
  McpServerRemoved,
  McpServerView,
  LeaseEnded,
  OpenApiDocument,
  PresetView,
  ProposalApproval,
  ProposalListQuery,
  ProposalView,
  ProviderClientView,
  ProviderDeleted,
  ProviderCreate,
  ProviderView,
  WebhookCreate,
  WebhookDeliveryView,
  WebhookView,
  OperatorCreate,
  OperatorKeyCreated,
  OperatorKeyView,
  OperatorRole,
  OperatorView,
  SessionView,
  SignInLinkView,
} from './types.js';
import type { StatusView } from '../api/status.js';

/** The operator's client: every admin route of the REST API, one method each. */
export class LatchkeyAdmin {
  readonly http: HttpClient;

  constructor(options: ClientOptions & { adminToken?: string }) {
    this.http = new HttpClient({ ...options, token: options.adminToken ?? options.token });
  }

  /** The server's OpenAPI 3.1 document (GET /openapi.json, no authentication needed). */
  openapi(): Promise<OpenApiDocument> {
    return this.http.json('GET', '/openapi.json');
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
    remove: async (name: string, options: { force?: boolean } = {}): Promise<ProviderDeleted> =>
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
  /** The consent step of a remote MCP client's authorization (the console's /console/mcp/consent/{uid} page uses it). */
  readonly mcpConsent = {
    get: (uid: string): Promise<McpConsentView> => this.http.json('GET', `/v1/mcp-consent/${enc(uid)}`),
    decide: (uid: string, body: McpConsentDecision): Promise<McpConsentResult> => this.http.json('POST', `/v1/mcp-consent/${enc(uid)}`, { body }),
  };

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
    /** Makes a pending delivery due now (its attempts are kept); 409 when it was delivered already. */
    retry: async (webhookId: string, deliveryId: string): Promise<WebhookDeliveryView> =>
      this.http.json('POST', `/v1/webhooks/${enc(webhookId)}/deliveries/${enc(deliveryId)}/retry`),
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

  /** Access proposals from agents (docs/agents.md, "Asking for access"). */
  readonly proposals = {
    list: (query: ProposalListQuery = {}): Promise<ProposalView[]> => this.http.json('GET', '/v1/proposals', { query: { status: query.status } }),
    /** Every proposal (newest first), a page at a time. */
    iterate: (query: ProposalListQuery = {}, options: PageOptions = {}): AsyncGenerator<ProposalView, void, undefined> =>
      iteratePages(this.http, '/v1/proposals', { status: query.status }, options),
    get: async (id: string): Promise<ProposalView> => this.http.json('GET', `/v1/proposals/${enc(id, 'proposal id')}`),
    /** Appends the (optionally narrowed) rule to the agent's policy. */
    approve: async (id: string, body: ProposalApproval = {}): Promise<ProposalView> =>
      this.http.json('POST', `/v1/proposals/${enc(id, 'proposal id')}/approve`, { body }),
    deny: async (id: string, body: { reason?: string } = {}): Promise<ProposalView> =>
      this.http.json('POST', `/v1/proposals/${enc(id, 'proposal id')}/deny`, { body }),
  };

  readonly keys = {
    list: (): Promise<DataKeyView[]> => this.http.json('GET', '/v1/keys'),
    rotate: (): Promise<KeyRotation> => this.http.json('POST', '/v1/keys/rotate'),
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
  readonly leases = {
    /** Every active lease, of every agent. */
    list: (): Promise<LeaseView[]> => this.http.json('GET', '/v1/leases'),
    iterate: (options: PageOptions = {}): AsyncGenerator<LeaseView, void, undefined> => iteratePages(this.http, '/v1/leases', {}, options),
    /** Ends a lease; `rotate` also revokes the leased token at the provider and refreshes the connection. */
    end: async (id: string, options: { rotate?: boolean } = {}): Promise<LeaseEnded> =>
      this.http.json('DELETE', `/v1/leases/${enc(id, 'lease id')}`, { query: { rotate: options.rotate ? 'true' : undefined } }),
  };

  /** What `latchkey status` shows: version, database, keys, connections by status, what needs a person. */
  status(): Promise<StatusView> {
    return this.http.json('GET', '/v1/status');
  }

  readonly agents = {
    /** The response carries `apiKey` once. */
    create: (body: AgentCreate): Promise<AgentCreated> => this.http.json('POST', '/v1/agents', { body }),
    list: (): Promise<AgentView[]> => this.http.json('GET', '/v1/agents'),
    iterate: (options: PageOptions = {}): AsyncGenerator<AgentView, void, undefined> => iteratePages(this.http, '/v1/agents', {}, options),
    get: async (idOrName: string): Promise<AgentView & { keys: AgentKeyView[] }> => this.http.json('GET', `/v1/agents/${enc(idOrName)}`),
    update: async (idOrName: string, body: { policy: unknown }): Promise<AgentView> =>
      this.http.json('PATCH', `/v1/agents/${enc(idOrName)}`, { body }),
    remove: async (idOrName: string): Promise<{ deleted: boolean }> => this.http.json('DELETE', `/v1/agents/${enc(idOrName)}`),
    /** A new key, shown once (`apiKey`). */
    addKey: async (idOrName: string): Promise<{ id: string; agentId: string; apiKey: string; createdAt: string }> =>
      this.http.json('POST', `/v1/agents/${enc(idOrName)}/keys`),
    removeKey: async (idOrName: string, keyId: string): Promise<{ deleted: boolean }> =>
      this.http.json('DELETE', `/v1/agents/${enc(idOrName)}/keys/${enc(keyId)}`),
    /** The remote MCP clients an operator consented to act as this agent; independent of its keys. */
    mcpClients: async (idOrName: string): Promise<McpClientGrantView[]> => this.http.json('GET', `/v1/agents/${enc(idOrName)}/mcp-clients`),
    /** Ends one of them (`id` from `mcpClients`): its codes, access and refresh tokens stop working at once. */
    revokeMcpClient: async (idOrName: string, id: string): Promise<{ deleted: boolean }> =>
      this.http.json('DELETE', `/v1/agents/${enc(idOrName)}/mcp-clients/${enc(id)}`),
  };

  /** Single-use pages an account owner opens to connect (or reconnect in place) their own account. */
  readonly connectLinks = {
    create: (body: ConnectLinkCreate): Promise<ConnectLinkCreated> => this.http.json('POST', '/v1/connect-links', { body }),
    list: (): Promise<ConnectLinkView[]> => this.http.json('GET', '/v1/connect-links'),
    iterate: (options: PageOptions = {}): AsyncGenerator<ConnectLinkView, void, undefined> => iteratePages(this.http, '/v1/connect-links', {}, options),
    remove: async (id: string): Promise<ConnectLinkView> => this.http.json('DELETE', `/v1/connect-links/${enc(id)}`),
  };

  /** The people who run Latchkey (admin role, but reads are open to viewers). */
  readonly operators = {
    create: (body: OperatorCreate): Promise<OperatorView> => this.http.json('POST', '/v1/operators', { body }),
    list: (): Promise<OperatorView[]> => this.http.json('GET', '/v1/operators'),
    get: async (name: string): Promise<OperatorView> => this.http.json('GET', `/v1/operators/${enc(name)}`),
    update: async (name: string, body: { role?: OperatorRole; password?: string }): Promise<OperatorView> =>
      this.http.json('PATCH', `/v1/operators/${enc(name)}`, { body }),
    remove: async (name: string): Promise<{ deleted: boolean }> => this.http.json('DELETE', `/v1/operators/${enc(name)}`),
    /** A one-time console sign-in URL (the token is in its fragment); valid 15 minutes. */
    signInLink: async (name: string): Promise<SignInLinkView> => this.http.json('POST', `/v1/operators/${enc(name)}/sign-in-links`),
    keys: {
      /** The key (`lko_…`) is in the answer only; `role` defaults to the operator's and may not exceed it. */
      create: async (name: string, body: { role?: OperatorRole } = {}): Promise<OperatorKeyCreated> =>
        this.http.json('POST', `/v1/operators/${enc(name)}/keys`, { body }),
      list: async (name: string): Promise<OperatorKeyView[]> => this.http.json('GET', `/v1/operators/${enc(name)}/keys`),
      remove: async (name: string, keyId: string): Promise<{ deleted: boolean }> =>
        this.http.json('DELETE', `/v1/operators/${enc(name)}/keys/${enc(keyId)}`),
    },
  };

  /**
   * Console sessions (cookie `__Host-lk_session`). In a browser, build the client
   * with a `fetch` that sends credentials and the session's `X-Latchkey-CSRF`.
   */
  readonly sessions = {
    create: (body: { name: string; password: string } | { signInToken: string }): Promise<SessionView> =>
      this.http.json('POST', '/v1/sessions', { body }),
    current: (): Promise<SessionView> => this.http.json('GET', '/v1/session'),
    end: (): Promise<{ signedOut: boolean }> => this.http.json('DELETE', '/v1/session'),
  };

  /** The audit log, newest first. */
  readonly audit = {
    list: (filter: AuditFilter & { limit?: number } = {}): Promise<AuditEventView[]> => this.http.json('GET', '/v1/audit', { query: { ...filter } }),
    iterate: (filter: AuditFilter = {}, options: PageOptions = {}): AsyncGenerator<AuditEventView, void, undefined> =>
      iteratePages(this.http, '/v1/audit', { ...filter }, options),
    verify: (): Promise<AuditVerifyView> => this.http.json('GET', '/v1/audit/verify'),
  };
}
