import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { escapeControls } from '../cli/output.js';
import { Latchkey } from '../sdk/index.js';
import type { ToolContext } from './context.js';
import { DEFAULT_LIMITS, redactor, type BodyLimits } from './result.js';
import { registerCallApi } from './tools/call-api.js';
import { addGatewayTools } from './tools/gateway.js';
import { registerInvokeCapability } from './tools/invoke-capability.js';
import { registerListConnections } from './tools/list-connections.js';
import { registerRequestAccess } from './tools/request-access.js';

export interface McpOptions {
  /** Latchkey's base URL. */
  url: string;
  /** The agent key (or, under /mcp, a request-scoped credential naming the agent): its policy governs everything the tools do. Never the admin token. */
  agentKey: string;
  /** Where log lines go; default stderr (stdout carries JSON-RPC only). */
  log?: (line: string) => void;
  limits?: Partial<BodyLimits>;
  fetch?: typeof fetch;
  version?: string;
  /**
   * Whether the host takes URL-mode elicitations. Default: what it declared
   * when it initialized this server (stdio). A stateless HTTP server never
   * sees the initialize of later requests, so /mcp answers from its own memory.
   */
  elicitsUrl?: () => boolean;
}

function logWriter(options: McpOptions): (line: string) => void {
  return options.log ?? ((line: string) => process.stderr.write(`latchkey mcp: ${line}\n`));
}

/** The MCP server with Latchkey's tools, not yet connected to a transport. */
export function createMcpServer(options: McpOptions): McpServer {
  const redact = redactor([options.agentKey]);
  const write = logWriter(options);
  const ctx: ToolContext = {
    client: new Latchkey({ url: options.url, agentKey: options.agentKey, ...(options.fetch ? { fetch: options.fetch } : {}) }),
    redact,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    // Lines carry upstream text (a tool result's first line, an error message): escaped, an ESC sequence from a
    // hostile server cannot drive the operator's terminal.
    log: (line) => write(escapeControls(redact(line))),
    elicitsUrl: () => options.elicitsUrl?.() ?? server.server.getClientCapabilities()?.elicitation?.url !== undefined,
  };
  const server: McpServer = new McpServer(
    { name: 'latchkey', version: options.version ?? '0.1.0' },
    {
      instructions:
        'Latchkey gives you access to accounts (connections) a person has connected, without ever showing you their tokens. ' +
        'Start with list_connections; then use invoke_capability for named operations or call_api for other allowed requests. ' +
        'If a request is forbidden and you need it, ask a person with request_access.',
    },
  );
  registerTools(server, ctx);
  return server;
}

/** The one set of tools, for both shells: `latchkey mcp` on stdio and `/mcp` over Streamable HTTP. */
function registerTools(server: McpServer, ctx: ToolContext): void {
  // Before any tool is registered: it wraps the tools/list and tools/call handlers McpServer installs.
  addGatewayTools(server, ctx);
  registerListConnections(server, ctx);
  registerInvokeCapability(server, ctx);
  registerCallApi(server, ctx);
  registerRequestAccess(server, ctx);
}

/**
 * Serves the tools on stdin/stdout until the host closes stdin or sends
 * SIGINT/SIGTERM. The stdio transport does not notice the end of stdin by
 * itself, so without that the process would linger after the host is gone.
 */
export async function runMcpStdio(options: McpOptions): Promise<void> {
  const server = createMcpServer(options);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = resolve;
  });
  const log = logWriter(options);
  const closeOn = (reason: string) => (): void => {
    log(`stopping: ${reason}`);
    server.close().catch(() => undefined);
  };
  const onEnd = closeOn('the host closed stdin');
  const onSigint = closeOn('SIGINT');
  const onSigterm = closeOn('SIGTERM');
  process.stdin.once('end', onEnd);
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  await server.connect(transport);
  await closed;
  process.stdin.off('end', onEnd);
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
}
