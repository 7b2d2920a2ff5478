import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpToolView } from '../../sdk/index.js';
import { runTool, type ToolContext } from '../context.js';

/** Namespaced tools are `server__tool`; Latchkey's own tool names never contain it. */
const SEPARATOR = '__';

type Handler = (request: never, extra: never) => unknown;

/**
 * Adds the tools of upstream MCP servers behind Latchkey (the gateway),
 * namespaced `server__tool`, next to Latchkey's own. McpServer registers
 * only tools with zod schemas, and these come as JSON Schema from the
 * upstream, so its tools/list and tools/call handlers are wrapped as it
 * installs them: call this before registering any tool.
 */
export function addGatewayTools(server: McpServer, ctx: ToolContext): void {
  const low = server.server;
  const install = low.setRequestHandler.bind(low) as (schema: unknown, handler: Handler) => void;
  const wrapped = (schema: unknown, handler: Handler): void => {
    if (schema === ListToolsRequestSchema) {
      install(schema, (async (request: never, extra: never) => {
        const own = (await handler(request, extra)) as { tools: Tool[] };
        return { ...own, tools: [...own.tools, ...(await gatewayTools(ctx))] };
      }) as Handler);
    } else if (schema === CallToolRequestSchema) {
      install(schema, (async (request: { params: { name: string; arguments?: Record<string, unknown> } }, extra: never) => {
        const { name } = request.params;
        const at = name.indexOf(SEPARATOR);
        if (at <= 0) return handler(request as never, extra);
        return callGatewayTool(ctx, name.slice(0, at), name.slice(at + SEPARATOR.length), request.params.arguments ?? {});
      }) as Handler);
    } else install(schema, handler);
  };
  (low as unknown as { setRequestHandler: typeof wrapped }).setRequestHandler = wrapped;
}

async function gatewayTools(ctx: ToolContext): Promise<Tool[]> {
  const tools: McpToolView[] = [];
  try {
    // Every page: `list()` is the first page only (100), and an agent may be allowed more tools than that.
    for await (const tool of ctx.client.mcpTools.iterate({ limit: 1000 })) tools.push(tool);
  } catch (err) {
    // An older server or a refusal: Latchkey's own tools still work.
    ctx.log(`listing upstream MCP tools failed: ${ctx.redact(err instanceof Error ? err.message : String(err))}`);
    return [];
  }
  return tools.map((t) => ({
    name: t.name,
    description: `${t.description} (through Latchkey, MCP server "${t.server}")`.trim(),
    // The MCP specification requires an object schema; anything else is shown as "any object".
    inputSchema: (t.inputSchema.type === 'object' ? t.inputSchema : { type: 'object' }) as Tool['inputSchema'],
  }));
}

function callGatewayTool(ctx: ToolContext, server: string, tool: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return runTool(ctx, `${server}${SEPARATOR}${tool}`, async () => {
    const result = await ctx.client.mcpTools.call(server, tool, { arguments: args });
    // Masked by Latchkey already; the agent key is masked here too, as in every tool result.
    return JSON.parse(ctx.redact(JSON.stringify(result))) as CallToolResult;
  });
}
