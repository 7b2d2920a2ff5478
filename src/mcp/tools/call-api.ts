import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { queryStrings, runTool, type ToolContext } from '../context.js';
import { httpResult, ToolInputError } from '../result.js';
import { METHODS, bodyArg, checkPath, connectionArg, queryArg } from './schemas.js';

/** Headers a model may not set: Latchkey supplies credentials, and hop-by-hop headers belong to the transport. */
const REFUSED_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', 'host', 'connection', 'content-length', 'transfer-encoding']);

function withQuery(path: string, query: Record<string, string> | undefined): string {
  if (query === undefined || Object.keys(query).length === 0) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${new URLSearchParams(query).toString()}`;
}

export function registerCallApi(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'call_api',
    {
      title: 'Call an API',
      description:
        "Sends an HTTP request to a connection's API (e.g. GET /user/repos on GitHub) through Latchkey, which adds the account's " +
        'credentials; never send credentials yourself. The path is relative to the API base of the connection. The agent\'s policy ' +
        'decides which methods and paths are allowed (see directCalls in list_connections); a refused request comes back as an error ' +
        'such as forbidden. Returns the HTTP status, the content type and the response body (JSON pretty-printed, long bodies truncated).',
      inputSchema: {
        connection: connectionArg,
        method: z.enum(METHODS).describe('HTTP method.'),
        path: z.string().min(1).max(4096).describe('Path relative to the API base, starting with "/", e.g. "/user/repos".'),
        query: queryArg,
        headers: z
          .record(z.string())
          .optional()
          .describe('Extra request headers, e.g. {"accept": "application/vnd.github+json"}. Authorization and cookies are not allowed.'),
        body: bodyArg,
      },
      annotations: { openWorldHint: true },
    },
    (args) =>
      runTool(ctx, `call_api ${args.connection} ${args.method} ${args.path.split('?', 1)[0] ?? ''}`, async () => {
        const problem = checkPath(args.path);
        if (problem !== undefined) throw new ToolInputError(problem);
        const headers = new Headers();
        for (const [name, value] of Object.entries(args.headers ?? {})) {
          if (REFUSED_HEADERS.has(name.toLowerCase())) throw new ToolInputError(`the ${name} header may not be set: Latchkey adds credentials itself`);
          headers.set(name, value);
        }
        let body: string | undefined;
        if (args.body !== undefined) {
          if (args.method === 'GET' || args.method === 'HEAD') throw new ToolInputError(`a ${args.method} request cannot have a body`);
          if (typeof args.body === 'string') body = args.body;
          else {
            body = JSON.stringify(args.body);
            if (!headers.has('content-type')) headers.set('content-type', 'application/json');
          }
        }
        const response = await ctx.client.fetch(args.connection, withQuery(args.path, queryStrings(args.query)), {
          method: args.method,
          headers,
          ...(body === undefined ? {} : { body }),
        });
        return httpResult(response, ctx.limits, ctx.redact);
      }, args.connection),
  );
}
