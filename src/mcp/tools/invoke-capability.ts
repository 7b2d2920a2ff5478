import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { InvokeOptions } from '../../sdk/index.js';
import { queryStrings, runTool, type ToolContext } from '../context.js';
import { httpResult, ToolInputError } from '../result.js';
import { METHODS, bodyArg, capabilityArg, checkPath, connectionArg, queryArg } from './schemas.js';

export function registerInvokeCapability(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'invoke_capability',
    {
      title: 'Invoke a capability',
      description:
        'Calls a named capability (an allowed operation such as "repos" or "playlists") on one of your connections, through Latchkey, ' +
        'which adds the account\'s credentials. Use the names from list_connections. method and path are optional: by default the ' +
        "capability's first method and path are used; a path you give must stay under one of the capability's path prefixes. " +
        'Returns the HTTP status, the content type and the response body (JSON pretty-printed, long bodies truncated). ' +
        'If Latchkey refuses (e.g. forbidden, needs_reauth) the result is an error naming the reason.',
      inputSchema: {
        connection: connectionArg,
        capability: capabilityArg,
        method: z.enum(METHODS).optional().describe("HTTP method; default: the capability's first method."),
        path: z.string().min(1).max(4096).optional().describe("Path relative to the API base, e.g. \"/user/repos\"; default: the capability's first path prefix."),
        query: queryArg,
        body: bodyArg,
      },
      annotations: { openWorldHint: true },
    },
    (args) =>
      runTool(ctx, `invoke_capability ${args.connection}/${args.capability}`, async () => {
        if (args.path !== undefined) {
          const problem = checkPath(args.path);
          if (problem !== undefined) throw new ToolInputError(problem);
        }
        const options: InvokeOptions = {};
        if (args.method !== undefined) options.method = args.method;
        if (args.path !== undefined) options.path = args.path;
        const query = queryStrings(args.query);
        if (query !== undefined) options.query = query;
        if (args.body !== undefined) options.body = args.body;
        return httpResult(await ctx.client.invokeResponse(args.connection, args.capability, options), ctx.limits, ctx.redact);
      }, args.connection),
  );
}
