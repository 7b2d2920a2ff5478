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
  mcpServerRemoved,
  mcpServerView,
  mcpToolCallBody,
  mcpToolResult,
  mcpToolView,
  meView,
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

/** `POST /v1/mcp-servers` body. */
export type McpServerCreate = FromSchema<typeof createMcpServerBody>;
/** An upstream MCP server; its connections belong to the provider of the same name. */
export type McpServerView = FromSchema<typeof mcpServerView>;
export type McpServerRemoved = FromSchema<typeof mcpServerRemoved>;
/** A tool of an upstream MCP server behind Latchkey, as the agent's policy lets it see it (`server__tool`). */
export type McpToolView = FromSchema<typeof mcpToolView>;
/** `POST /v1/mcp-tools/{server}/{tool}` body. */
export type McpToolCall = FromSchema<typeof mcpToolCallBody>;
/** An MCP CallToolResult as the upstream answered it, with every token form masked by Latchkey. */
export type McpToolResult = FromSchema<typeof mcpToolResult>;
