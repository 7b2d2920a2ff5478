
/**
 * Column types as Kysely sees them (camelCase; the CamelCasePlugin maps to
 * snake_case columns). Times are ISO 8601 UTC strings, which sort correctly as
 * text on both dialects; JSON is text; booleans are 0/1 integers; sealed
 * columns hold `lk1.` envelopes only.
 */
export interface KeyringKeysTable {
  id: string;
  wrappedKey: string;
  status: string;
  createdAt: string;
  sealsReserved: number;
}

export interface ProvidersTable {
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
  /** sealed */
  clientSecret: string | null;
  tokenEndpointAuthMethod: string;
  scopes: string;
  pkce: number;
  authorizeParams: string;
  apiBaseUrl: string | null;
  allowedHosts: string;
  capabilities: string;
  quirks: string;
  issParameterSupported: number;
  createdAt: string;
  updatedAt: string;
  /** MAC of the security-relevant fields (providers/integrity.ts); NULL only before its first start on 0014. */
  integrity: string | null;
}

export interface ConnectionsTable {
  id: string;
  name: string;
  providerId: string;
  subject: string | null;
  environment: string;
  grantType: string;
  status: string;
  scopes: string;
  tokenType: string | null;
  /** sealed JSON {accessToken, refreshToken, idToken} */
  tokens: string | null;
  expiresAt: string | null;
  refreshTokenExpiresAt: string | null;
  lastRefreshedAt: string | null;
  lastUsedAt: string | null;
  lastError: string | null;
  metadata: string;
  /** the connection's own API base (a token response's instance URL); null: the provider's */
  apiBaseUrl: string | null;
  /** the provider_clients row whose client minted the grant; null: the provider's default client */
  providerClientId: string | null;
  /** bumped on every token write; refreshes commit only against the version they read */
  version: number;
  refreshClaimOwner: string | null;
  refreshClaimUntil: string | null;
  /** bumped on every claim: a commit is conditional on owner and generation (the fence) */
  refreshClaimGeneration: number;
  /** 1 once the provider has been seen rotating this connection's refresh token */
  refreshTokenRotates: number;
  /** JSON {owner, generation, at, fingerprint} written before calling the token endpoint */
  refreshIntent: string | null;
  failureCount: number;
  nextAttemptAt: string | null;
  /** when an upstream 401 last started a refresh: the per-connection cooldown (0009) */
  unauthorizedRefreshAt?: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A provider's OAuth clients besides its default one (which lives on the provider row). */
export interface ProviderClientsTable {
  id: string;
  providerId: string;
  clientId: string;
  /** sealed */
  clientSecret: string | null;
  tokenEndpointAuthMethod: string;
  createdAt: string;
  /** MAC of the client fields (providers/integrity.ts). */
  integrity: string | null;
}

export interface OAuthStatesTable {
  /** SHA-256 (hex) of the state parameter */
  id: string;
  connectionId: string;
  providerId: string;
  /** sealed JSON {codeVerifier, nonce} */
  secrets: string;
  scopes: string;
  redirectUri: string;
  returnTo: string | null;
  expiresAt: string;
  createdAt: string;
  /** SHA-256 (hex) of the start link's token; null for requests made before browser binding */
  startId: string | null;
  /** SHA-256 (hex) of the cookie the start page set; null until a browser opened it */
  browserBinding: string | null;
  /** the connect link this request was started from, if any */
  connectLinkId: string | null;
}

export interface ConnectLinksTable {
  id: string;
  /** SHA-256 (hex) of the link's token */
  tokenHash: string;
  providerId: string;
  /** set when the link reconnects this connection in place */
  connectionId: string | null;
  name: string | null;
  subject: string | null;
  environment: string | null;
  /** JSON array, or null for the provider's (or connection's) scopes */
  scopes: string | null;
  /** JSON audit actor {type, id, name} */
  requestedBy: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

export interface DeviceAuthorizationsTable {
  id: string;
  connectionId: string;
  providerId: string;
  /** sealed */
  deviceCode: string;
  scopes: string;
  intervalSeconds: number;
  nextPollAt: string;
  expiresAt: string;
  createdAt: string;
}

export interface AgentsTable {
  id: string;
  name: string;
  environment: string;
  /** JSON policy */
  policy: string;
  createdAt: string;
  updatedAt: string;
}

export interface AgentKeysTable {
  id: string;
  agentId: string;
  /** SHA-256 (hex) of the agent key */
  keyHash: string;
  createdAt: string;
}

export interface LeasesTable {
  id: string;
  agentId: string;
  connectionId: string;
  /** sealed leased access token */
  token: string | null;
  scopes: string;
  expiresAt: string;
  tokenExpiresAt: string | null;
  createdAt: string;
  endedAt: string | null;
}

export interface AuditEventsTable {
  chainId: string;
  seq: number;
  id: string;
  at: string;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  connection: string | null;
  outcome: string;
  status: number | null;
  /** JSON */
  detail: string;
  prevHash: string;
  hash: string;
}

/** One group commit of one chain: its events as a JSON array, hash-chained to the block before. */
export interface AuditBlocksTable {
  chainId: string;
  block: number;
  firstSeq: number;
  lastSeq: number;
  firstAt: string;
  lastAt: string;
  /** JSON array of stored events: the exact text the hash covers. */
  events: string;
  /** Actor, connection and action values of the events, one per line, for filtered listing (audit/chain.ts). */
  searchKeys: string;
  prevHash: string;
  hash: string;
}

export interface AuditChainsTable {
  id: string;
  startedAt: string;
  lastSeq: number;
  lastHash: string;
  /** 0 for a chain written as one row per event (before 0005). */
  lastBlock: number;
  /** After a prune: the last pruned block (0 if none, or for a chain of one row per event). */
  anchorBlock: number;
  /** After a prune: the last pruned event's position (0 if none). */
  anchorSeq: number;
  /** After a prune: the hash the first kept block (or event) links to; null if nothing was pruned. */
  anchorHash: string | null;
}

export interface WebhooksTable {
  id: string;
  url: string;
  /** JSON array of event types */
  events: string;
  /** sealed */
  secret: string;
  createdAt: string;
  updatedAt: string;
}

export interface EventOutboxTable {
  id: string;
  type: string;
  connectionId: string | null;
  /** JSON event body, exactly as delivered (never a secret) */
  payload: string;
  createdAt: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhookId: string;
  eventId: string;
  /** pending | delivered */
  status: string;
  attempts: number;
  nextAttemptAt: string;
  claimOwner: string | null;
  claimUntil: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** A provider whose token endpoint refused Latchkey's own client; no row: the provider is fine. */
export interface ProviderStatusTable {
  providerId: string;
  /** misconfigured */
  status: string;
  reason: string;
  clientId: string | null;
  /** the grant that was refused, which the periodic check repeats */
  grantType: string;
  since: string;
  checks: number;
  nextCheckAt: string;
  updatedAt: string;
}

/** A durable RFC 7009 revocation: outlives the connection it came from. */
export interface RevocationsTable {
  id: string;
  connectionId: string;
  connectionName: string;
  providerId: string;
  clientId: string | null;
  /** the provider client (provider_clients.id) the grant was minted with; null: the provider's default client */
  providerClientId: string | null;
  tokenTypeHint: string;
  /** sealed (AAD: revocations, id, token); null once the job has finished */
  token: string | null;
  /**
   * sealed JSON (AAD: revocations, id, client): the provider as the grant's client saw it when the job
   * was queued, client secret included, for a retry after the provider is removed (0021); null once finished
   */
  client: string | null;
  /** pending | revoked | failed */
  status: string;
  attempts: number;
  nextAttemptAt: string;
  claimOwner: string | null;
  claimUntil: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface ProposalsTable {
  id: string;
  agentId: string;
  agentName: string;
  status: string;
  /** JSON requested rule */
  request: string;
  requestKey: string;
  reason: string;
  createdAt: string;
  decidedAt: string | null;
  /** JSON actor */
  decidedBy: string | null;
  /** JSON approved rule and lease grant */
  rule: string | null;
  decisionReason: string | null;
}

export interface OperatorsTable {
  id: string;
  name: string;
  /** viewer | operator | admin */
  role: string;
  /** `scrypt$N$r$p$salt$hash` (operators/password.ts); null: sign-in links only */
  passwordHash: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface OperatorSessionsTable {
  /** SHA-256 of the session id (the cookie value) */
  idHash: string;
  operatorId: string;
  createdAt: string;
  lastSeenAt: string;
  /** absolute end */
  expiresAt: string;
}

export interface OperatorSignInLinksTable {
  /** SHA-256 of the one-time token */
  tokenHash: string;
  operatorId: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

export interface OperatorKeysTable {
  id: string;
  operatorId: string;
  /** SHA-256 of the `lko_` key */
  keyHash: string;
  role: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface Database {
  keyringKeys: KeyringKeysTable;
  providers: ProvidersTable;
  connections: ConnectionsTable;
  providerClients: ProviderClientsTable;
  oauthStates: OAuthStatesTable;
  connectLinks: ConnectLinksTable;
  deviceAuthorizations: DeviceAuthorizationsTable;
  agents: AgentsTable;
  agentKeys: AgentKeysTable;
  leases: LeasesTable;
  /** One row per event: how 0004 wrote the log. Read and verified, no longer written. */
  auditEvents: AuditEventsTable;
  auditBlocks: AuditBlocksTable;
  auditChains: AuditChainsTable;
  webhooks: WebhooksTable;
  eventOutbox: EventOutboxTable;
  webhookDeliveries: WebhookDeliveriesTable;
  providerStatus: ProviderStatusTable;
  revocations: RevocationsTable;
  proposals: ProposalsTable;
  mcpServers: McpServersTable;
  mcpOauth: McpOauthTable;
  operators: OperatorsTable;
  operatorSessions: OperatorSessionsTable;
  operatorSignInLinks: OperatorSignInLinksTable;
  operatorKeys: OperatorKeysTable;
}

/** oidc-provider's models for the /mcp authorization server (0018); keyed by hashes, never by the raw id. */
export interface McpOauthTable {
  model: string;
  idHash: string;
  /** JSON of the model's payload, without its id (the `jti` of a token is its secret). */
  payload: string;
  grantHash: string | null;
  uidHash: string | null;
  userCodeHash: string | null;
  expiresAt: string | null;
  consumedAt: string | null;
  /** The agent the row was issued for (oidc-provider's accountId), 0021; null for clients, interactions, sessions. */
  accountId: string | null;
}

/** An upstream MCP server (0019); its OAuth client and endpoints are the provider row it names. */
export interface McpServersTable {
  id: string;
  name: string;
  url: string;
  /** The RFC 8707 resource indicator sent on authorization and token requests (the PRM `resource`). */
  resource: string;
  providerId: string;
  issuer: string;
  /** How Latchkey became the AS's client: `cimd`, `dcr` or `manual`. */
  registration: string;
  resourceMetadataUrl: string;
  createdAt: string;
  updatedAt: string;
}
