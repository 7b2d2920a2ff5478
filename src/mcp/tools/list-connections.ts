import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { nameGlob } from '../../agents/index.js';
import type { AgentIdentity } from '../../sdk/index.js';
import { runTool, type ToolContext } from '../context.js';
import { jsonResult } from '../result.js';

interface Rule {
  connections: string[];
  methods?: string[];
  paths?: string[];
  capabilities?: string[];
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

/** The policy as /v1/me returns it; the SDK types it `unknown`, so read it defensively. */
function rulesOf(policy: unknown): Rule[] {
  const raw = typeof policy === 'object' && policy !== null ? (policy as { rules?: unknown }).rules : undefined;
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((r: unknown): Rule[] => {
    if (typeof r !== 'object' || r === null) return [];
    const o = r as Record<string, unknown>;
    // A rule naming upstream MCP servers grants their tools, not calls on its connections.
    if (o.mcpServers !== undefined) return [];
    const connections = strings(o.connections);
    if (connections === undefined) return [];
    const rule: Rule = { connections };
    const methods = strings(o.methods);
    const paths = strings(o.paths);
    const capabilities = strings(o.capabilities);
    if (methods !== undefined) rule.methods = methods;
    if (paths !== undefined) rule.paths = paths;
    if (capabilities !== undefined) rule.capabilities = capabilities;
    return [rule];
  });
}

/** Per connection: capabilities granted by name, and the method/path rules that allow direct calls. */
export function describeConnections(me: AgentIdentity): unknown {
  const rules = rulesOf(me.policy);
  return {
    agent: me.name,
    environment: me.environment,
    connections: me.connections.map((c) => {
      const mine = rules.filter((r) => r.connections.some((g) => nameGlob(g).test(c.name)));
      // Newer servers say what each granted capability does; older ones only let us read names off the policy.
      const capabilities =
        c.capabilities?.map((cap) => ({ name: cap.name, description: cap.description, methods: cap.methods, paths: cap.pathPrefixes })) ??
        [...new Set(mine.flatMap((r) => r.capabilities ?? []))].map((name) => ({ name }));
      const directCalls = mine
        .filter((r) => r.capabilities === undefined || r.methods !== undefined || r.paths !== undefined)
        .map((r) => ({ methods: r.methods ?? ['any'], paths: r.paths ?? ['any'] }));
      return {
        name: c.name,
        provider: c.provider,
        status: c.status,
        ...(c.status === 'active' ? {} : { note: statusNote(c.status) }),
        scopes: c.scopes,
        expiresAt: c.expiresAt,
        capabilities,
        directCalls,
      };
    }),
  };
}

function statusNote(status: string): string {
  if (status === 'needs_reauth') return 'a person must reconnect this account before it can be used';
  if (status === 'pending') return 'not authorized yet; a person must finish connecting it';
  if (status === 'revoked') return 'revoked; it cannot be used';
  return 'not usable right now';
}

export function registerListConnections(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'list_connections',
    {
      title: 'List connections',
      description:
        'Lists the accounts (connections) this agent may use through Latchkey, e.g. a GitHub or Google account. ' +
        'For each: its name (pass it as `connection` to the other tools), provider, status (only `active` ones work), OAuth scopes, ' +
        '`capabilities` (named operations to call with invoke_capability) and `directCalls` (the methods and path globs allowed with call_api; ' +
        '"any" means unrestricted). Call this first. No tokens are ever shown: Latchkey adds them to requests itself.',
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => runTool(ctx, 'list_connections', async () => jsonResult(describeConnections(await ctx.client.me()), ctx.redact)),
  );
}
