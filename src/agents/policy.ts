import { parseDuration } from '../duration.js';
import { InvalidRequest } from '../errors.js';
import type { Capability } from '../providers/index.js';
import { matchesAny } from './globs.js';

/** One allow rule for the proxy and invoke. Omitted methods or paths mean "any"; a rule naming capabilities grants exactly those. */
export interface ApiRule {
  connections: string[];
  methods?: string[];
  paths?: string[];
  capabilities?: string[];
}

/**
 * One allow rule for upstream MCP servers behind the gateway: the tools (names or `*`) of the
 * servers it names, through any of the server's connections in the agent's environment, or only
 * those its `connections` globs name. It grants nothing on the proxy or invoke.
 */
export interface McpRule {
  mcpServers: string[];
  tools: string[];
  connections?: string[];
}

export type PolicyRule = ApiRule | McpRule;

export function isMcpRule(rule: PolicyRule): rule is McpRule {
  return 'mcpServers' in rule;
}

/** The rules that govern the proxy and invoke. */
function apiRules(policy: Policy): ApiRule[] {
  return policy.rules.filter((r): r is ApiRule => !isMcpRule(r));
}

export interface LeasePolicy {
  allowed: boolean;
  /** seconds; also the only bound on a lease of a token that never expires (without it such a lease is refused). */
  maxTtl?: number;
  /** Whether the agent may end its leases with rotate=true, which revokes the token and refreshes the connection. */
  rotate?: boolean;
}

/** Default deny: an agent may do only what a rule allows. */
export interface Policy {
  rules: PolicyRule[];
  lease: LeasePolicy;
}

export const DEFAULT_LEASE_TTL_SECONDS = 15 * 60;

/** What an agent asks to do, as the policy sees it. */
export interface AccessRequest {
  connection: string;
  method: string;
  /** The path the agent asked for (relative to the API base), normalised. */
  path: string;
  /** The absolute path on the upstream host (what capabilities are written against). */
  upstreamPath: string;
  host: string;
  /** Set for invoke: the capability already checked against the request. */
  capability?: string;
}

function stringList(value: unknown, field: string, upper = false): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || v === '')) {
    throw new InvalidRequest(`policy: ${field} must be a non-empty list of strings`);
  }
  return (value as string[]).map((v) => (upper ? v.toUpperCase() : v));
}

/** Validates a policy from the API and returns its canonical form (maxTtl in seconds). */
export function parsePolicy(input: unknown): Policy {
  if (input === undefined || input === null) return { rules: [], lease: { allowed: false } };
  if (typeof input !== 'object' || Array.isArray(input)) throw new InvalidRequest('policy must be an object');
  const raw = input as { rules?: unknown; lease?: unknown };
  const rulesIn = raw.rules ?? [];
  if (!Array.isArray(rulesIn)) throw new InvalidRequest('policy.rules must be a list');
  const rules = rulesIn.map((r: unknown, i): PolicyRule => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new InvalidRequest(`policy.rules[${i}] must be an object`);
    const rule = r as Record<string, unknown>;
    if (rule.mcpServers !== undefined) return parseMcpRule(rule, i);
    for (const key of Object.keys(rule)) {
      if (!['connections', 'methods', 'paths', 'capabilities'].includes(key)) {
        throw new InvalidRequest(`policy.rules[${i}]: unknown field "${key}"`);
      }
    }
    const connections = stringList(rule.connections, `rules[${i}].connections`);
    if (connections === undefined) throw new InvalidRequest(`policy.rules[${i}].connections is required`);
    const paths = stringList(rule.paths, `rules[${i}].paths`);
    if (paths?.some((p) => !p.startsWith('/'))) throw new InvalidRequest(`policy.rules[${i}].paths must start with "/"`);
    const out: PolicyRule = { connections };
    const methods = stringList(rule.methods, `rules[${i}].methods`, true);
    const capabilities = stringList(rule.capabilities, `rules[${i}].capabilities`);
    if (methods !== undefined) out.methods = methods;
    if (paths !== undefined) out.paths = paths;
    if (capabilities !== undefined) out.capabilities = capabilities;
    return out;
  });
  const lease: LeasePolicy = { allowed: false };
  if (raw.lease !== undefined) {
    if (typeof raw.lease !== 'object' || raw.lease === null) throw new InvalidRequest('policy.lease must be an object');
    const l = raw.lease as Record<string, unknown>;
    for (const key of Object.keys(l)) {
      if (!['allowed', 'maxTtl', 'rotate'].includes(key)) throw new InvalidRequest(`policy.lease: unknown field "${key}"`);
    }
    if (l.allowed !== undefined && typeof l.allowed !== 'boolean') throw new InvalidRequest('policy.lease.allowed must be a boolean');
    if (l.rotate !== undefined && typeof l.rotate !== 'boolean') throw new InvalidRequest('policy.lease.rotate must be a boolean');
    lease.allowed = l.allowed === true;
    if (l.rotate === true) lease.rotate = true;
    if (l.maxTtl !== undefined) {
      const seconds = parseDuration(l.maxTtl);
      if (seconds === undefined || seconds <= 0) throw new InvalidRequest('policy.lease.maxTtl must be a duration such as "15m"');
      lease.maxTtl = seconds;
    }
  }
  return { rules, lease };
}

const MCP_NAME = /^[a-z0-9*][a-z0-9._*-]{0,62}$/;
const TOOL_NAME = /^[A-Za-z0-9_*][A-Za-z0-9_.*-]{0,127}$/;

function parseMcpRule(rule: Record<string, unknown>, i: number): McpRule {
  for (const key of Object.keys(rule)) {
    if (!['mcpServers', 'tools', 'connections'].includes(key)) {
      throw new InvalidRequest(`policy.rules[${i}]: unknown field "${key}" (a rule naming mcpServers takes tools and connections only)`);
    }
  }
  const servers = stringList(rule.mcpServers, `rules[${i}].mcpServers`) as string[];
  if (servers.some((s) => !MCP_NAME.test(s))) throw new InvalidRequest(`policy.rules[${i}].mcpServers: names are MCP server names or globs`);
  const tools = stringList(rule.tools, `rules[${i}].tools`);
  if (tools === undefined) throw new InvalidRequest(`policy.rules[${i}].tools is required (tool names, or "*" for all)`);
  if (tools.some((t) => !TOOL_NAME.test(t))) throw new InvalidRequest(`policy.rules[${i}].tools: names are tool names or globs`);
  const out: McpRule = { mcpServers: servers, tools };
  const connections = stringList(rule.connections, `rules[${i}].connections`);
  if (connections !== undefined) out.connections = connections;
  return out;
}

/** Whether the policy lets the agent call this tool of this upstream MCP server (through this connection, when given). */
export function mayCallTool(policy: Policy, server: string, tool: string, connection?: string): boolean {
  return policy.rules.some(
    (r) =>
      isMcpRule(r) &&
      matchesAny(r.mcpServers, server, 'name') &&
      matchesAny(r.tools, tool, 'name') &&
      (connection === undefined || r.connections === undefined || matchesAny(r.connections, connection, 'name')),
  );
}

/** Whether some rule names this MCP server at all (through this connection, when given): the servers whose tools an agent is shown. */
export function mayUseMcpServer(policy: Policy, server: string, connection?: string): boolean {
  return policy.rules.some(
    (r) =>
      isMcpRule(r) &&
      matchesAny(r.mcpServers, server, 'name') &&
      (connection === undefined || r.connections === undefined || matchesAny(r.connections, connection, 'name')),
  );
}

/** Whether any rule names this connection: what `GET /v1/me` lists and what a lease needs. */
export function mayUseConnection(policy: Policy, connection: string): boolean {
  return apiRules(policy).some((r) => matchesAny(r.connections, connection, 'name'));
}

/** Segment-aware prefix match: `/user` covers `/user` and `/user/repos`, not `/users`. */
export function underPrefix(path: string, prefix: string): boolean {
  if (prefix.endsWith('/')) return path.startsWith(prefix);
  return path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`);
}

/** Whether a request fits a capability: method, host and path prefix. */
export function fitsCapability(cap: Capability, method: string, upstreamPath: string, host: string, baseHost: string): boolean {
  if (!cap.methods.includes(method)) return false;
  if (!(cap.hosts ?? [baseHost]).includes(host)) return false;
  return cap.pathPrefixes.some((p) => underPrefix(upstreamPath, p));
}

/** Default deny: true only when some rule allows exactly this request. */
export function isAllowed(policy: Policy, request: AccessRequest, capabilities: readonly Capability[], baseHost: string): boolean {
  return apiRules(policy).some((rule) => {
    if (!matchesAny(rule.connections, request.connection, 'name')) return false;
    for (const name of rule.capabilities ?? []) {
      if (request.capability === name) return true;
      const cap = capabilities.find((c) => c.name === name);
      if (cap !== undefined && fitsCapability(cap, request.method, request.upstreamPath, request.host, baseHost)) return true;
    }
    const byMethodAndPath = rule.capabilities === undefined || rule.methods !== undefined || rule.paths !== undefined;
    if (!byMethodAndPath) return false;
    const methodOk = rule.methods === undefined || rule.methods.includes(request.method) || rule.methods.includes('*');
    const pathOk = rule.paths === undefined || matchesAny(rule.paths, request.path, 'path');
    return methodOk && pathOk;
  });
}

/**
 * The provider's capabilities this policy lets the agent invoke on a
 * connection, for `GET /v1/me` (so an agent or MCP host can see what each one
 * does): those a rule names, or all of them under a rule without limits.
 */
export function grantedCapabilities(policy: Policy, connection: string, capabilities: readonly Capability[]): Capability[] {
  const names = new Set<string>();
  for (const rule of apiRules(policy)) {
    if (!matchesAny(rule.connections, connection, 'name')) continue;
    const unlimited = rule.capabilities === undefined && rule.methods === undefined && rule.paths === undefined;
    for (const cap of capabilities) {
      if (unlimited || rule.capabilities?.includes(cap.name)) names.add(cap.name);
    }
  }
  return capabilities.filter((c) => names.has(c.name));
}
