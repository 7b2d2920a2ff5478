/** Response shapes of the REST API, as the SDK returns them. */
export interface CapabilityView {
  name: string;
  description: string;
  methods: string[];
  pathPrefixes: string[];
  hosts?: string[];
}

export interface PresetView {
  name: string;
  displayName: string;
  issuer: string | null;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  scopes: string[];
  apiBaseUrl: string;
  allowedHosts: string[];
  capabilities: CapabilityView[];
}

export interface ProviderView {
  id: string;
  name: string;
  displayName: string;
  preset: string | null;
  issuer: string | null;
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
  revocationEndpoint: string | null;
  deviceAuthorizationEndpoint: string | null;
  clientId: string | null;
  hasClientSecret: boolean;
  tokenEndpointAuthMethod: string;
  scopes: string[];
  pkce: boolean;
  authorizeParams: Record<string, string>;
  apiBaseUrl: string | null;
  allowedHosts: string[];
  capabilities: CapabilityView[];
  /** The redirect URI to register with the provider. */
  redirectUri: string;
  /** `misconfigured` while the token endpoint refuses Latchkey's client (invalid_client, unauthorized_client). */
  status: 'ok' | 'misconfigured';
  statusReason: string | null;
  statusSince: string | null;
  /** When Latchkey next checks whether the provider accepts the client again. */
  nextCheckAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ProviderCreate {
  name: string;
  preset?: string;
  issuer?: string;
  displayName?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  revocationEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  clientId?: string;
  clientSecret?: string | null;
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'none';
  scopes?: string[];
  pkce?: boolean;
  authorizeParams?: Record<string, string>;
  apiBaseUrl?: string;
  allowedHosts?: string[];
  capabilities?: CapabilityView[];
}

export interface ConnectionView {
  id: string;
  name: string;
  provider: string;
  subject: string | null;
  environment: string;
  grantType: string;
  status: string;
  scopes: string[];
  expiresAt: string | null;
  refreshTokenExpiresAt: string | null;
  lastRefreshedAt: string | null;
  lastUsedAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  metadata: Record<string, unknown>;
  /** Where this connection's API calls go when not the provider's apiBaseUrl (Salesforce's instance_url). */
  apiBaseUrl: string | null;
  /** The OAuth client id the connection refreshes and revokes with. */
  clientId: string | null;
}

/** One of a provider's OAuth clients (GET /v1/providers/{name}/clients); never its secret. */
export interface ProviderClientView {
  /** `pcl_…`; null for the provider's default client. */
  id: string | null;
  default: boolean;
  clientId: string | null;
  hasClientSecret: boolean;
  tokenEndpointAuthMethod: string;
  connections: number;
  createdAt: string;
}

export interface ConnectionImport {
  name?: string;
  provider: string;
  subject?: string;
  environment?: string;
  accessToken?: string;
  refreshToken?: string;
  idToken?: string;
  expiresAt?: string;
  scopes?: string[];
  tokenType?: string;
  /** The connection's own API base, e.g. the instance_url of a Salesforce token response. */
  apiBaseUrl?: string;
  /** The OAuth client the tokens were issued to: selected or added to the provider, never rewritten while in use. */
  clientId?: string;
  clientSecret?: string;
}

export interface ConnectionFilter {
  provider?: string;
  environment?: string;
  status?: string;
  subject?: string;
  /** seconds, or a duration such as "1h" */
  expiringWithin?: number | string;
}

export interface KeyRotation {
  newKeyId: string;
  resealed: number;
  retiredKeyIds: string[];
}

/** Body of POST /v1/connect/{provider} (and, without returnTo, of the device route). */
export interface ConnectRequest {
  name?: string;
  subject?: string;
  environment?: string;
  scopes?: string[];
  returnTo?: string;
}

export interface AuthorizationStartView {
  connectionId: string;
  authorizationUrl: string;
  expiresAt: string;
}

export interface DeviceStartView {
  connectionId: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  expiresAt: string;
  interval: number;
}

/** GET /v1/connections/{id}/token */
export interface ConnectionTokenView {
  accessToken: string;
  tokenType: string;
  scopes: string[];
  expiresAt: string | null;
}

export interface WebhookCreate {
  url: string;
  events: string[];
  /** At least 16 characters; generated (and returned once) when left out. */
  secret?: string;
}

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  createdAt: string;
}

/** A durable revocation job (`GET /v1/revocations`): never the token. */
export interface RevocationView {
  id: string;
  connectionId: string;
  connection: string;
  provider: string | null;
  tokenTypeHint: string;
  status: 'pending' | 'revoked' | 'failed';
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** `DELETE /v1/connections/{id}`: `revocation` is set while the provider has not confirmed (a job keeps trying). */
export interface ConnectionDeleted {
  deleted: boolean;
  revokedAtProvider: boolean;
  revocation?: Pick<RevocationView, 'id' | 'status' | 'attempts' | 'nextAttemptAt' | 'lastError'>;
}

export interface WebhookDeliveryView {
  id: string;
  eventId: string;
  status: 'pending' | 'delivered';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** An MCP client's authorization waiting for an operator (`GET /v1/mcp-consent/{uid}`). */
export interface McpConsentView {
  uid: string;
  client: {
    clientId: string;
    name: string | null;
    uri: string | null;
    /** `metadata_document`: the client id is the URL of its metadata; `dynamic`: registered by RFC 7591. */
    registration: 'metadata_document' | 'dynamic';
    metadataUrl: string | null;
  };
  redirectUri: string;
  scopes: string[];
  resource: string;
  expiresAt: string;
}

/** What the operator decides: act as an existing agent, as a new default-deny agent, or deny. */
export type McpConsentDecision = { agent: string } | { newAgent: { name: string; environment?: string } } | { deny: true };

export interface McpConsentResult {
  /** Where the browser that started the authorization continues. */
  redirectTo: string;
  decision: 'approved' | 'denied';
  agent: { id: string; name: string } | null;
}

/** `POST /v1/mcp-servers` body. */
export interface McpServerCreate {
  name: string;
  /** The MCP server's Streamable HTTP endpoint, e.g. https://mcp.linear.app/mcp */
  url: string;
  clientId?: string;
  clientSecret?: string;
}

/** An upstream MCP server; its connections belong to the provider of the same name. */
export interface McpServerView {
  id: string;
  name: string;
  url: string;
  resource: string;
  provider: string;
  issuer: string;
  registration: 'cimd' | 'dcr' | 'manual';
  clientId: string | null;
  scopes: string[];
  resourceMetadataUrl: string;
  createdAt: string;
  updatedAt: string;
}

export type OperatorRole = 'viewer' | 'operator' | 'admin';

export interface OperatorView {
  id: string;
  name: string;
  role: OperatorRole;
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface McpServerRemoved {
  deleted: boolean;
  removedConnections: number;
  revokedAtProvider: number;
}

/** An allow rule of an agent's policy (docs/agents.md). */
export interface PolicyRuleView {
  connections: string[];
  methods?: string[];
  paths?: string[];
  capabilities?: string[];
}

/** Lease settings asked for or granted with a proposal; maxTtl in seconds once stored. */
export interface ProposalLease {
  maxTtl?: number;
  rotate?: boolean;
}

/** `POST /v1/proposals`: what an agent asks for (one of connection or provider; capabilities or methods/paths). */
export interface ProposalCreate {
  connection?: string;
  provider?: string;
  methods?: string[];
  paths?: string[];
  capabilities?: string[];
  lease?: { maxTtl?: string | number; rotate?: boolean };
  reason: string;
}

export type ProposalStatus = 'pending' | 'approved' | 'denied';

export interface ProposalView {
  id: string;
  agent: { id: string; name: string };
  status: ProposalStatus;
  request: Omit<ProposalCreate, 'reason' | 'lease'> & { lease?: ProposalLease };
  /** The agent's words: untrusted text. */
  reason: string;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: { type: string; id: string | null; name: string | null } | null;
  /** The rule appended to the agent's policy (approved only). */
  rule: PolicyRuleView | null;
  lease: ProposalLease | null;
  decisionReason: string | null;
}

/** `POST /v1/proposals/{id}/approve`: narrow the rule (within the request) or drop/narrow the lease. */
export interface ProposalApproval {
  rule?: Partial<PolicyRuleView>;
  lease?: { maxTtl?: string | number; rotate?: boolean } | false;
}

export interface ProposalListQuery {
  status?: ProposalStatus;
}

export interface OperatorCreate {
  name: string;
  role: OperatorRole;
  /** At least 12 characters; without one the operator signs in with a sign-in link. */
  password?: string;
}

export interface OperatorKeyView {
  id: string;
  role: OperatorRole;
  createdAt: string;
  lastUsedAt: string | null;
}

/** A new operator API key: `apiKey` (`lko_…`) is shown only here. */
export interface OperatorKeyCreated extends OperatorKeyView {
  apiKey: string;
  operator: string;
}

/** A one-time sign-in link for the console (15 minutes). */
export interface SignInLinkView {
  url: string;
  expiresAt: string;
}

/** A console session: send `csrfToken` as `X-Latchkey-CSRF` on every request that changes something. */
export interface SessionView {
  operator: { id: string; name: string; role: OperatorRole };
  csrfToken: string;
  expiresAt: string;
  idleExpiresAt: string;
}

export interface AgentView {
  id: string;
  name: string;
  environment: string;
  policy: unknown;
  createdAt: string;
  updatedAt: string;
}

export interface AgentKeyView {
  id: string;
  createdAt: string;
  [extra: string]: unknown;
}

export interface AgentCreated extends AgentView {
  keyId: string;
  apiKey: string;
}

export interface AgentCreate {
  name: string;
  environment?: string;
  policy?: unknown;
}

export interface LeaseView {
  id: string;
  agentId: string;
  agent: string | null;
  connection: string | null;
  scopes: string[];
  createdAt: string;
  expiresAt: string;
  tokenExpiresAt: string | null;
}

export interface AuditEventView {
  id: string;
  at: string;
  actor: { type: string; id: string | null; name: string | null };
  action: string;
  connection: string | null;
  outcome: string;
  status: number | null;
  detail: Record<string, unknown>;
}

export interface AuditFilter {
  agent?: string;
  connection?: string;
  action?: string;
  since?: string;
  limit?: number;
}

export interface AuditVerifyView {
  ok: boolean;
  events?: number;
  [extra: string]: unknown;
}

export interface ConnectLinkCreate {
  provider?: string;
  subject?: string;
  name?: string;
  environment?: string;
  scopes?: string[];
  /** Reconnect this connection in place. */
  connection?: string;
  expiresIn?: number | string;
}

export interface ConnectLinkView {
  id: string;
  url: string;
  expiresAt: string;
}
