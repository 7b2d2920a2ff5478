import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Connection } from '../connections/index.js';
import { TargetNotAllowed } from '../errors.js';
import type { OutboundFetch } from '../net/index.js';
import { authorizationOf, type AccessGrant, type TokenService } from '../tokens/index.js';
import { MAX_UPSTREAM_MCP_RESPONSE_BYTES, guardedFetch } from './fetch.js';

export interface UpstreamDeps {
  tokens: TokenService;
  fetch: OutboundFetch;
  /** Bound on each HTTP exchange with the upstream (a tool call included). */
  timeoutMs: number;
  /** Bound on each answer's body; default MAX_UPSTREAM_MCP_RESPONSE_BYTES. */
  maxResponseBytes?: number;
}

/** What a session did with tokens: every one it sent, so none of their forms reaches the caller. */
export interface UpstreamOutcome<T> {
  value: T;
  secrets: string[];
}

/**
 * One MCP session with an upstream server as one connection: the MCP SDK
 * client over Streamable HTTP, its fetch dialing through the address guard,
 * the connection's token injected server-side on every request (a valid one,
 * refreshed single-flight), and on a 401 the token replaced once (fenced,
 * single-flight across callers) and the request sent once more.
 */
export async function withUpstream<T>(
  deps: UpstreamDeps,
  serverUrl: string,
  connection: Connection,
  work: (client: Client, options: RequestOptions) => Promise<T>,
  hooks: { onToolListChanged?: () => void; onTokenReplaced?: () => Promise<void>; secrets?: string[] } = {},
): Promise<UpstreamOutcome<T>> {
  const secrets = hooks.secrets ?? [];
  const remember = (g: AccessGrant): AccessGrant => {
    secrets.push(g.accessToken, ...(g.otherTokens ?? []));
    return g;
  };
  const origin = new URL(serverUrl).origin;
  // An answer past the size limit fails the whole session at once: inside an event stream the SDK
  // would only report it and leave the request waiting for its own timeout.
  let overflowed: (error: Error) => void = () => undefined;
  const overflow = new Promise<never>((_, reject) => {
    overflowed = reject;
  });
  overflow.catch(() => undefined);
  const unlessOverflowed = <V>(step: Promise<V>): Promise<V> => {
    // The losing step still settles (rejected by close() below): it must not become an unhandled rejection.
    step.catch(() => undefined);
    return Promise.race([step, overflow]);
  };
  const base = guardedFetch(deps.fetch, {
    timeoutMs: deps.timeoutMs,
    maxResponseBytes: deps.maxResponseBytes ?? MAX_UPSTREAM_MCP_RESPONSE_BYTES,
    onOverflow: (error) => overflowed(error),
  });
  let grant = remember(await deps.tokens.getValidToken(connection));

  const withToken: FetchLike = async (url, init) => {
    // The token goes to the server's own origin only, whatever the SDK is asked to follow.
    if (new URL(String(url)).origin !== origin) throw new TargetNotAllowed(`the MCP server tried to send Latchkey to ${new URL(String(url)).origin}`);
    const send = (g: AccessGrant): Promise<Response> => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', authorizationOf(g));
      return base(url, { ...init, headers });
    };
    const used = grant;
    const response = await send(used);
    if (response.status !== 401 || (init?.body !== undefined && init.body !== null && typeof init.body !== 'string')) return response;
    let replacement: AccessGrant | undefined;
    try {
      replacement = await deps.tokens.reportUnauthorized(connection, used.accessToken);
    } catch (err) {
      // The refused answer is not read: it must not hold its upstream connection open.
      await response.body?.cancel().catch(() => undefined);
      throw err;
    }
    if (replacement === undefined) return response;
    await response.body?.cancel().catch(() => undefined);
    grant = remember(replacement);
    // Audited as the proxy does: a refresh the upstream's 401 caused.
    await hooks.onTokenReplaced?.();
    return send(grant);
  };

  const client = new Client({ name: 'latchkey-gateway', version: '0.1.0' }, { capabilities: {} });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    hooks.onToolListChanged?.();
  });
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { fetch: withToken, reconnectionOptions: NO_RECONNECT });
  // The SDK's own per-request bound (60 s by default) is held to ours: a stream the fetch bound cut
  // only reports an error, and the request would otherwise wait for the SDK's timeout.
  const options: RequestOptions = { timeout: deps.timeoutMs };
  try {
    await unlessOverflowed(client.connect(transport, options));
    const value = await unlessOverflowed(work(client, options));
    return { value, secrets };
  } finally {
    // A stateful server frees the session now rather than at its own timeout.
    await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}

/** The session lives for one call: a dropped notification stream is not worth reconnecting. */
const NO_RECONNECT = { initialReconnectionDelay: 1000, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1, maxRetries: 0 };
