import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock.js';
import type { Connection, ConnectionRegistry } from '../connections/index.js';
import type { Logger } from '../log.js';
import type { OutboundFetch } from '../net/index.js';
import type { ProviderRegistry } from '../providers/index.js';
import type { Store } from '../store/index.js';
import type { ConnectionDeletion, TokenService } from '../tokens/index.js';
import { mcpServerRegistry } from './servers.js';
import { gatewayTools } from './tools.js';

export { CLIENT_METADATA_PATH, LEGACY_CLIENT_METADATA_PATH, clientMetadataUrl, type ClientMetadata, type McpServerInput, type McpServerView } from './servers.js';
export { TOOL_SEPARATOR, redactJson, type GatewayTool, type ToolCallInput } from './tools.js';

export interface GatewayDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  providers: ProviderRegistry;
  connections: ConnectionRegistry;
  tokens: TokenService;
  audit: AuditLog;
  fetch: OutboundFetch;
  allowHttpLoopback: boolean;
  publicUrl: () => string;
  deleteConnection: (connection: Connection) => Promise<ConnectionDeletion>;
  /** Default 60 s: how long an upstream's tool list is used without a `tools/list_changed`. */
  toolListTtlMs?: number;
  /** Default 60 s: the bound on each HTTP exchange with an upstream MCP server. */
  upstreamTimeoutMs?: number;
}

/** The MCP gateway: upstream MCP servers brokered like any connection (issue 13, outbound). */
export function mcpGateway(deps: GatewayDeps) {
  const servers = mcpServerRegistry(deps);
  const tools = gatewayTools({
    ...deps,
    servers,
    timeoutMs: deps.upstreamTimeoutMs ?? 60_000,
    toolListTtlMs: deps.toolListTtlMs ?? 60_000,
  });
  return {
    servers: {
      ...servers,
      remove: async (name: string, options: { force: boolean }) => {
        const row = await servers.row(name);
        const removed = await servers.remove(name, options);
        tools.forget(row.id);
        return removed;
      },
    },
    tools,
  };
}

export type McpGateway = ReturnType<typeof mcpGateway>;
