import { McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { agentActorOf, mayCallTool, mayUseMcpServer, type AuthenticatedAgent } from '../agents/index.js';
import type { AuditLog } from '../audit/index.js';
import { redactorFor } from '../broker/index.js';
import type { Clock } from '../clock.js';
import type { Connection, ConnectionRegistry } from '../connections/index.js';
import { Forbidden, InvalidRequest, LatchkeyError, NotFound, UpstreamError } from '../errors.js';
import type { Logger } from '../log.js';
import type { McpServerRow } from '../store/index.js';
import type { McpServerRegistry } from './servers.js';
import { withUpstream, type UpstreamDeps } from './upstream.js';

/** A tool of an upstream server as an agent sees it: `server__tool`. */
export interface GatewayTool {
  name: string;
  server: string;
  tool: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface ToolCallInput {
  connection?: string;
  arguments?: Record<string, unknown>;
}

export interface ToolDeps extends UpstreamDeps {
  servers: McpServerRegistry;
  connections: ConnectionRegistry;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  /** How long a server's tool list is trusted without a `tools/list_changed` (ms). */
  toolListTtlMs: number;
}

/** The separator of namespaced tool names; server names may not contain it. */
export const TOOL_SEPARATOR = '__';
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const MAX_TOOL_PAGES = 20;
const MAX_TOOLS = 1000;

export function gatewayTools(deps: ToolDeps) {
  // Server id → connection id → list. Per connection: what a server lists can depend on the account (its
  // scopes, its plan), and one account's tool names and descriptions are not another agent's to see.
  const cache = new Map<string, Map<string, { at: number; tools: Tool[] }>>();

  /**
   * The connections of the server the agent may use as `allowed` says (not revoked), and among them the
   * ones preferred: the active ones when there are any. A listing goes through every preferred one; a call
   * without `connection` through the only one, so both pick by the same rule.
   */
  async function usableConnections(
    agent: AuthenticatedAgent,
    server: McpServerRow,
    allowed: (c: Connection) => boolean,
  ): Promise<{ usable: Connection[]; preferred: Connection[] }> {
    const usable = (await deps.connections.list({ provider: server.name, environment: agent.environment })).filter(
      (c) => c.status !== 'revoked' && allowed(c),
    );
    const active = usable.filter((c) => c.status === 'active');
    return { usable, preferred: active.length > 0 ? active : usable };
  }

  /** Pick the connection a call of `tool` goes through: the one asked for, or the only preferred usable one. */
  async function connectionFor(agent: AuthenticatedAgent, server: McpServerRow, tool: string, requested: string | undefined): Promise<Connection> {
    const allowedFor = (c: Connection): boolean => mayCallTool(agent.policy, server.name, tool, c.name);
    if (requested !== undefined) {
      const found = await deps.connections.find(requested);
      if (found === undefined || found.environment !== agent.environment || found.providerId !== server.providerId) {
        throw new NotFound(`connection "${requested}" is not a connection of MCP server "${server.name}"`);
      }
      if (!allowedFor(found)) throw new Forbidden(`agent "${agent.name}" may not use connection "${requested}" of MCP server "${server.name}"`);
      return found;
    }
    const { usable, preferred } = await usableConnections(agent, server, allowedFor);
    if (preferred.length === 0) {
      throw new NotFound(`MCP server "${server.name}" has no connection this agent may use; connect it first (latchkey connect ${server.name})`);
    }
    if (preferred.length === 1) return preferred[0] as Connection;
    throw new InvalidRequest(`MCP server "${server.name}" has several connections (${usable.map((c) => c.name).join(', ')}); name one in "connection"`);
  }

  /** The upstream refused the token and a new one was obtained: audited as the proxy audits it, with who caused it. */
  const tokenReplaced = (agent: AuthenticatedAgent, server: McpServerRow, connection: Connection) => async (): Promise<void> => {
    await deps.audit.record({
      actor: agentActorOf(agent),
      action: 'connection.refresh',
      connection: connection.name,
      outcome: 'success',
      detail: { reason: 'upstream_401', server: server.name },
    });
  };

  async function upstreamTools(agent: AuthenticatedAgent, server: McpServerRow, connection: Connection): Promise<Tool[]> {
    const cached = cache.get(server.id)?.get(connection.id);
    const now = deps.clock.now().getTime();
    if (cached !== undefined && now - cached.at < deps.toolListTtlMs) return cached.tools;
    const outcome = await withUpstream(
      deps,
      server.url,
      connection,
      async (client, options) => {
        const tools: Tool[] = [];
        let cursor: string | undefined;
        // A hostile upstream can answer empty pages with a next cursor forever: the pages are counted too.
        for (let pages = 0; pages < MAX_TOOL_PAGES; pages += 1) {
          const page = await client.listTools(cursor === undefined ? {} : { cursor }, options);
          tools.push(...page.tools.slice(0, MAX_TOOLS - tools.length));
          cursor = page.nextCursor;
          if (cursor === undefined || tools.length >= MAX_TOOLS) break;
        }
        return tools.filter((t) => TOOL_NAME.test(t.name)).slice(0, MAX_TOOLS);
      },
      { onToolListChanged: () => cache.delete(server.id), onTokenReplaced: tokenReplaced(agent, server, connection) },
    );
    // Descriptions and schemas are the upstream's text: a reflected token is masked like any tool result.
    const tools = redactJson(outcome.value, outcome.secrets).value;
    let lists = cache.get(server.id);
    if (lists === undefined) cache.set(server.id, (lists = new Map()));
    lists.set(connection.id, { at: now, tools });
    return tools;
  }

  /**
   * `GET /v1/mcp-tools`: the tools of every server the agent's policy names, narrowed to the tools it names.
   * A server is listed through each connection the agent may use (lists are per account), and each tool is
   * kept only if a rule allows it on a connection it was listed through; a tool listed through several
   * appears once (a call then names its `connection`).
   */
  async function list(agent: AuthenticatedAgent): Promise<GatewayTool[]> {
    const out: GatewayTool[] = [];
    for (const server of await deps.servers.rows()) {
      if (!mayUseMcpServer(agent.policy, server.name)) continue;
      const cannotList = (err: unknown, connection?: Connection): void => {
        // One server (or account) down or not connected yet must not hide the others' tools.
        deps.logger.warn(
          { server: server.name, ...(connection ? { connection: connection.name } : {}), error: err instanceof LatchkeyError ? err.code : 'upstream' },
          'could not list an upstream MCP server\'s tools',
        );
      };
      let through: Connection[];
      try {
        through = (await usableConnections(agent, server, (c) => mayUseMcpServer(agent.policy, server.name, c.name))).preferred;
        if (through.length === 0) throw new NotFound(`MCP server "${server.name}" has no connection this agent may use`);
      } catch (err) {
        cannotList(err);
        continue;
      }
      const seen = new Set<string>();
      for (const connection of through) {
        let tools: Tool[];
        try {
          tools = await upstreamTools(agent, server, connection);
        } catch (err) {
          cannotList(err, connection);
          continue;
        }
        for (const t of tools) {
          if (seen.has(t.name) || !mayCallTool(agent.policy, server.name, t.name, connection.name)) continue;
          seen.add(t.name);
          out.push({
            name: `${server.name}${TOOL_SEPARATOR}${t.name}`,
            server: server.name,
            tool: t.name,
            description: t.description ?? '',
            inputSchema: t.inputSchema as Record<string, unknown>,
          });
        }
      }
    }
    return out;
  }

  /**
   * `POST /v1/mcp-tools/{server}/{tool}`: checks the policy (a refusal is
   * audited), audits the attempt before anything goes upstream (fail-closed),
   * calls the tool, masks every token the call used in the result, and audits
   * the outcome with its duration, never the arguments.
   */
  async function call(agent: AuthenticatedAgent, serverName: string, tool: string, input: ToolCallInput): Promise<CallToolResult> {
    const actor = agentActorOf(agent);
    let server: McpServerRow;
    let connection: Connection;
    try {
      server = await deps.servers.row(serverName);
      if (!mayCallTool(agent.policy, server.name, tool)) {
        throw new Forbidden(`agent "${agent.name}" may not call tool "${tool}" of MCP server "${server.name}"`);
      }
      connection = await connectionFor(agent, server, tool, input.connection);
    } catch (err) {
      if (err instanceof LatchkeyError) {
        await deps.audit.record({
          actor,
          action: 'mcp.tool_call',
          ...(input.connection === undefined ? {} : { connection: input.connection }),
          outcome: 'denied',
          detail: { server: serverName, tool, reason: err.code },
        });
      }
      throw err;
    }
    const detail = { server: server.name, tool };
    await deps.audit.record({ actor, action: 'mcp.tool_call.begin', connection: connection.name, outcome: 'success', detail });
    const started = performance.now();
    const secrets: string[] = [];
    const finish = async (outcome: 'success' | 'failure', extra: Record<string, string | number | boolean>): Promise<void> => {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      await deps.audit.record({ actor, action: 'mcp.tool_call', connection: connection.name, outcome, detail: { ...detail, durationMs, ...extra } });
    };
    let result: CallToolResult;
    try {
      const outcome = await withUpstream(
        deps,
        server.url,
        connection,
        (client, options) => client.callTool({ name: tool, arguments: input.arguments ?? {} }, undefined, options) as Promise<CallToolResult>,
        { onToolListChanged: () => cache.delete(server.id), onTokenReplaced: tokenReplaced(agent, server, connection), secrets },
      );
      result = outcome.value;
    } catch (err) {
      const failure = upstreamFailure(err, secrets);
      await finish('failure', { error: failure.code });
      throw failure;
    }
    const redacted = redactJson(result, secrets);
    await finish(redacted.value.isError === true ? 'failure' : 'success', {
      ...(redacted.value.isError === true ? { isError: true } : {}),
      ...(redacted.redacted ? { redacted: true } : {}),
    });
    deps.connections.touch(connection.id).catch(() => undefined);
    return redacted.value;
  }

  return { list, call, forget: (serverId: string) => cache.delete(serverId) };
}

export type GatewayTools = ReturnType<typeof gatewayTools>;

/** Latchkey's own errors pass; anything the upstream said becomes a 502 whose message cannot carry a token. */
function upstreamFailure(err: unknown, secrets: string[]): LatchkeyError {
  if (err instanceof LatchkeyError) return err;
  const said = err instanceof McpError ? `error ${err.code}: ${err.message}` : err instanceof Error ? err.message : 'no answer';
  const masked = secrets.length === 0 ? said : redactorFor(secrets).maskText(said);
  // No `cause`: the original error holds the unmasked text.
  return new UpstreamError(`the upstream MCP server failed: ${masked.slice(0, 500)}`);
}

/**
 * A JSON value with every form of the secrets masked in each string (and key),
 * and whether there was one. Strings are masked one by one, as UTF-8, so the
 * marker never cuts a JSON escape or a multi-byte character in half.
 */
export function redactJson<T>(value: T, secrets: readonly string[]): { value: T; redacted: boolean } {
  if (secrets.length === 0) return { value, redacted: false };
  const redactor = redactorFor(secrets);
  let redacted = false;
  const text = (s: string): string => {
    const bytes = Buffer.from(s, 'utf8');
    const masked = redactor.mask(bytes);
    if (masked === bytes) return s;
    redacted = true;
    return masked.toString('utf8');
  };
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return text(v);
    if (typeof v !== 'object' || v === null) return v;
    // Deeper than any JSON Latchkey accepts: nothing under it is shown.
    if (depth > 64) {
      redacted = true;
      return null;
    }
    if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, item]) => [text(k), walk(item, depth + 1)]));
  };
  const out = walk(value, 0) as T;
  return { value: redacted ? out : value, redacted };
}
