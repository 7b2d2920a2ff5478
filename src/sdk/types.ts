/**
 * Request and response shapes of the REST API, derived from the schemas in
 * src/api/ (the one contract, also served as /openapi.json): a field changed
 * there changes here, so the SDK cannot drift from the server. json-schema-to-ts
 * works on the schemas as they are written (plain `as const` JSON Schema), see
 * docs/decisions.md.
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type {
  agentCreated,
  agentDetail,
  agentKeyCreated,
  agentView,
  auditEventView,
  auditListQuery,
  auditPruned,
  auditVerified,
  authorizationStartView,
  capabilitySchema,
  clientCredentialsBody,
  connectBody,
  connectLinkSchema,
  createOperatorBody,
  createdConnectLink,
  connectionDeleted,
  connectionListQuery,
  connectionTokenView,
  connectionView,
  createAgentBody,
  createProviderBody,
  deviceStartView,
  importConnectionBody,
  invokeBody,
  keyRotation,
  keyView,
  leaseEnded,
  leaseGranted,
  leaseView,
  createMcpServerBody,
  mcpClientGrantView,
  mcpConsentResult,
  mcpConsentView,
  mcpServerView,
  mcpToolCallBody,
  mcpToolResult,
  mcpToolView,
  meView,
  operatorKeyCreated,
  operatorKeyView,
  operatorView,
  sessionView,
  signInLinkView,
  presetView,
  providerClientView,
  providerDeleted,
  providerView,
  revocationView,
  updateProviderClientBody,
  webhookCreateBody,
  webhookCreated,
  webhookDeliveryView,
  webhookView,
} from '../api/index.js';

/** What a schema accepts or answers, as a TypeScript type. */
export type Schema<S extends JSONSchema> = FromSchema<S>;

type PageParameters = 'limit' | 'cursor';

export type CapabilityView = FromSchema<typeof capabilitySchema>;
export type PresetView = FromSchema<typeof presetView>;
export type ProviderView = FromSchema<typeof providerView>;
export type ProviderCreate = FromSchema<typeof createProviderBody>;
/** One of a provider's OAuth clients (GET /v1/providers/{name}/clients); never its secret. */
export type ProviderClientView = FromSchema<typeof providerClientView>;
export type ProviderClientUpdate = FromSchema<typeof updateProviderClientBody>;
export type ProviderDeleted = FromSchema<typeof providerDeleted>;

export type ConnectionView = FromSchema<typeof connectionView>;
export type ConnectionImport = FromSchema<typeof importConnectionBody>;
export type ConnectionFilter = Omit<FromSchema<typeof connectionListQuery>, PageParameters | 'expiringWithin'> & {
  /** seconds, or a duration such as "1h" */
  expiringWithin?: number | string;
};
/** GET /v1/connections/{id}/token */
export type ConnectionTokenView = FromSchema<typeof connectionTokenView>;
/** `DELETE /v1/connections/{id}`: `revocation` is set while the provider has not confirmed (a job keeps trying). */
export type ConnectionDeleted = FromSchema<typeof connectionDeleted>;
/** A durable revocation job (`GET /v1/revocations`): never the token. */
export type RevocationView = FromSchema<typeof revocationView>;

/** Body of POST /v1/connect/{provider} (and, without returnTo, of the device route). */
export type ConnectRequest = FromSchema<typeof connectBody>;
export type ClientCredentialsRequest = FromSchema<typeof clientCredentialsBody>;
export type AuthorizationStartView = FromSchema<typeof authorizationStartView>;
export type DeviceStartView = FromSchema<typeof deviceStartView>;

export type KeyView = FromSchema<typeof keyView>;
export type KeyRotation = FromSchema<typeof keyRotation>;

export type WebhookCreate = FromSchema<ReturnType<typeof webhookCreateBody<readonly string[]>>>;
export type WebhookView = FromSchema<typeof webhookView>;
export type WebhookCreated = FromSchema<typeof webhookCreated>;
export type WebhookDeliveryView = FromSchema<typeof webhookDeliveryView>;

export type AgentCreate = FromSchema<typeof createAgentBody>;
export type AgentView = FromSchema<typeof agentView>;
export type AgentDetail = FromSchema<typeof agentDetail>;
export type AgentCreated = FromSchema<typeof agentCreated>;
export type AgentKeyCreated = FromSchema<typeof agentKeyCreated>;
/** A remote MCP client an operator let act as an agent (`GET /v1/agents/{id}/mcp-clients`); never a token. */
export type McpClientGrantView = FromSchema<typeof mcpClientGrantView>;
/** An active lease (`GET /v1/leases`): never its token. */
export type LeaseView = FromSchema<typeof leaseView>;
export type LeaseGranted = FromSchema<typeof leaseGranted>;
export type LeaseEnded = FromSchema<typeof leaseEnded>;
/** GET /v1/me: the calling agent, its policy and the connections (with capabilities) it may use. */
export type MeView = FromSchema<typeof meView>;
export type InvokeRequest = FromSchema<typeof invokeBody>;

export type AuditFilter = Omit<FromSchema<typeof auditListQuery>, PageParameters>;
export type AuditEventView = FromSchema<typeof auditEventView>;
export type AuditPruned = FromSchema<typeof auditPruned>;
export type AuditVerified = FromSchema<typeof auditVerified>;

/** GET /openapi.json, as far as a client reads it (the full document is OpenAPI 3.1). */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { operationId: string; security: Array<Record<string, string[]>>; [key: string]: unknown }>>;
  components: Record<string, unknown>;
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



export type OperatorRole = OperatorView['role'];
export type OperatorView = FromSchema<typeof operatorView>;
/** A data key of the keyring (never its material). */
export interface DataKeyView {
  id: string;
  status: 'active' | 'decrypt_only' | 'retired';
  createdAt: string;
  sealsReserved: number;
}

export type { StatusView } from '../api/status.js';
/** `password`: at least 12 characters; without one the operator signs in with a sign-in link. */
export type OperatorCreate = FromSchema<typeof createOperatorBody>;
export type OperatorKeyView = FromSchema<typeof operatorKeyView>;
/** A new operator API key: `apiKey` (`lko_…`) is shown only here. */
export type OperatorKeyCreated = FromSchema<typeof operatorKeyCreated>;
/** A one-time sign-in link for the console (15 minutes). */
export type SignInLinkView = FromSchema<typeof signInLinkView>;
/** A console session: send `csrfToken` as `X-Latchkey-CSRF` on every request that changes something. */
export type SessionView = FromSchema<typeof sessionView>;

/** One of an agent's keys (never the key itself). */
export type AgentKeyView = AgentDetail['keys'][number];
export type AuditVerifyView = AuditVerified;

/**
 * POST /v1/connect-links: a new connection (`provider` and `subject`), or
 * `connection` alone to reconnect that one in place. `expiresIn`: "1d", "12h"
 * or seconds, 60 s to 30 days (default 7 days).
 */
export type ConnectLinkCreate =
  | { provider: string; subject: string; name?: string; environment?: string; scopes?: string[]; expiresIn?: string | number }
  | { connection: string; expiresIn?: string | number };

/** The link to send the account owner; `url` carries its one-time token and is shown only here. */
export type ConnectLinkCreated = FromSchema<typeof createdConnectLink>;
/** GET /v1/connect-links: never the token or URL. */
export type ConnectLinkView = FromSchema<typeof connectLinkSchema>;

/** An MCP client's authorization waiting for an operator (`GET /v1/mcp-consent/{uid}`). */
export type McpConsentView = FromSchema<typeof mcpConsentView>;

/** What the operator decides: act as an existing agent, as a new default-deny agent, or deny. */
export type McpConsentDecision = { agent: string } | { newAgent: { name: string; environment?: string } } | { deny: true };

/** Where the browser that started the authorization continues, and as which agent. */
export type McpConsentResult = FromSchema<typeof mcpConsentResult>;
/** `POST /v1/mcp-servers` body. */
export type McpServerCreate = FromSchema<typeof createMcpServerBody>;
/** An upstream MCP server; its connections belong to the provider of the same name. */
export type McpServerView = FromSchema<typeof mcpServerView>;
export type McpServerRemoved = ProviderDeleted;
/** A tool of an upstream MCP server behind Latchkey, as the agent's policy lets it see it (`server__tool`). */
export type McpToolView = FromSchema<typeof mcpToolView>;
/** `POST /v1/mcp-tools/{server}/{tool}` body. */
export type McpToolCall = FromSchema<typeof mcpToolCallBody>;
/** An MCP CallToolResult as the upstream answered it, with every token form masked by Latchkey. */
export type McpToolResult = FromSchema<typeof mcpToolResult>;
