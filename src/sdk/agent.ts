import type { ConnectLinkCreate, ConnectLinkCreated, LeaseGranted, McpToolCall, McpToolResult, McpToolView, MeView, ProposalCreate, ProposalListQuery, ProposalView } from './types.js';
import { HttpClient, LatchkeyApiError, LatchkeyConnectionError } from './http.js';
import { iteratePages, type PageOptions } from './pages.js';
import { LatchkeyRequestError, capabilitySegment, connectionSegment, enc, proxyPathProblem, urlUnder } from './paths.js';

/** The API's error codes (api.md, "Errors"); `LatchkeyApiError.code` is one of these. */
export type ApiErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'needs_reauth'
  | 'invalid_state'
  | 'target_not_allowed'
  | 'upstream_error'
  | 'provider_unavailable'
  | 'audit_unavailable'
  | 'invalid_issuer'
  | 'internal_error';

/** POST /v1/leases (schema: api/responses.ts). */
export type Lease = LeaseGranted;

/** GET /v1/me: the agent, its policy and the connections it may use, each with the capabilities it may invoke. */
export type AgentIdentity = MeView;

export interface InvokeOptions {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
}

/** The upstream API answered with an error status (the call itself went through Latchkey fine). */
export class UpstreamHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`the upstream API answered ${status}`);
    this.name = 'UpstreamHttpError';
  }
}

/** True when `err` is an error answered by Latchkey with this code. */
export function isApiError(err: unknown, code?: ApiErrorCode): err is LatchkeyApiError {
  return err instanceof LatchkeyApiError && (code === undefined || err.code === code);
}

/**
 * The agent's client: calls APIs through Latchkey's proxy with an agent key.
 *
 *     const lk = new Latchkey({ url, agentKey });
 *     const me = await (await lk.fetch('github', '/user')).json();
 */
export class Latchkey {
  readonly http: HttpClient;
  readonly #fetch: typeof fetch;
  readonly #agentKey: string;

  constructor(options: { url: string; agentKey: string; fetch?: typeof fetch }) {
    this.http = new HttpClient({ url: options.url, token: options.agentKey, ...(options.fetch ? { fetch: options.fetch } : {}) });
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#agentKey = options.agentKey;
  }

  /**
   * A request through the proxy: the upstream's response comes back as it is
   * (any status). Latchkey's own refusals (policy, target, audit) throw LatchkeyApiError.
   */
  async fetch(connection: string, path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.#agentKey}`);
    const suffix = path === '' ? '' : path.startsWith('/') ? path : `/${path}`;
    const problem = proxyPathProblem(suffix);
    if (problem !== undefined) throw new LatchkeyRequestError(problem);
    const prefix = `/v1/proxy/${connectionSegment(connection)}`;
    const url = urlUnder(this.http.url, `${prefix}${suffix}`, prefix);
    let response: Response;
    try {
      response = await this.#fetch(url, { ...init, headers, redirect: 'manual' });
    } catch (cause) {
      throw new LatchkeyConnectionError(this.http.url, { cause });
    }
    if (!response.ok && !response.headers.has('latchkey-connection')) throw await apiError(response);
    return response;
  }

  /** Calls a capability by name; resolves to the upstream's JSON (or text) body. */
  async invoke<T = unknown>(connection: string, capability: string, options: InvokeOptions = {}): Promise<T> {
    const response = await this.http.raw('POST', `/v1/invoke/${connectionSegment(connection)}/${capabilitySegment(capability)}`, { body: options });
    if (!response.headers.has('latchkey-connection')) {
      if (!response.ok) throw await apiError(response);
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: the text itself
    }
    if (!response.ok) throw new UpstreamHttpError(response.status, body);
    return body as T;
  }

  /**
   * Calls a capability and returns the upstream's response as it is (any
   * status, headers kept), for callers that need more than the parsed body
   * (the MCP shell shows status and content type). Latchkey's own refusals
   * (policy, target, audit) throw LatchkeyApiError, as with fetch().
   */
  async invokeResponse(connection: string, capability: string, options: InvokeOptions = {}): Promise<Response> {
    const response = await this.http.raw('POST', `/v1/invoke/${connectionSegment(connection)}/${capabilitySegment(capability)}`, { body: options });
    if (!response.ok && !response.headers.has('latchkey-connection')) throw await apiError(response);
    return response;
  }

  /** A raw access token for a bounded time (policy permitting). */
  lease(connection: string, options: { ttl?: string | number } = {}): Promise<Lease> {
    return this.http.json('POST', '/v1/leases', { body: { connection, ...(options.ttl === undefined ? {} : { ttl: options.ttl }) } });
  }

  /** Ends a lease; `rotate` also revokes the leased token at the provider. */
  async endLease(leaseId: string, options: { rotate?: boolean } = {}): Promise<{ ended: boolean; revokedAtProvider: boolean; refreshed: boolean | null; refreshError: string | null }> {
    return this.http.json('DELETE', `/v1/leases/${enc(leaseId, 'lease id')}`, { query: { rotate: options.rotate ? 'true' : undefined } });
  }

  /**
   * Access proposals: after a 403 (its body names `proposalsUrl`), ask an
   * operator for a rule, then poll it. Asking again while the same request
   * is pending returns the pending proposal.
   */
  readonly proposals = {
    create: (body: ProposalCreate): Promise<ProposalView> => this.http.json('POST', '/v1/proposals', { body }),
    get: async (id: string): Promise<ProposalView> => this.http.json('GET', `/v1/proposals/${enc(id, 'proposal id')}`),
    list: (query: ProposalListQuery = {}): Promise<ProposalView[]> => this.http.json('GET', '/v1/proposals', { query: { status: query.status } }),
  };

  me(): Promise<AgentIdentity> {
    return this.http.json('GET', '/v1/me');
  }

  /** The tools of upstream MCP servers behind Latchkey (the gateway), called with the connection's token injected server-side. */
  readonly mcpTools = {
    /** The first page (100 tools); `iterate` walks them all. */
    list: (): Promise<McpToolView[]> => this.http.json('GET', '/v1/mcp-tools'),
    iterate: (options: PageOptions = {}): AsyncGenerator<McpToolView, void, undefined> => iteratePages(this.http, '/v1/mcp-tools', {}, options),
    /** Calls `tool` of `server`; `connection` picks one when the server has several for this agent. */
    call: (server: string, tool: string, input: McpToolCall = {}): Promise<McpToolResult> =>
      this.http.json('POST', `/v1/mcp-tools/${enc(server, 'MCP server name')}/${enc(tool, 'tool name')}`, { body: input }),
  };

  /**
   * A connect link for the person this agent works for: only for a connection
   * name the agent's policy names (`name` is required for a new one).
   */
  readonly connectLinks = {
    create: (body: ConnectLinkCreate): Promise<ConnectLinkCreated> => this.http.json('POST', '/v1/connect-links', { body }),
  };
}

async function apiError(response: Response): Promise<LatchkeyApiError> {
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON
  }
  const code = typeof body.error === 'string' ? body.error : 'http_error';
  const message = typeof body.message === 'string' ? body.message : `HTTP ${response.status}`;
  return new LatchkeyApiError(response.status, code, message, body);
}
