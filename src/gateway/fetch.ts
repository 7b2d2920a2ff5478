import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OutboundFetch, OutboundInit } from '../net/index.js';

/**
 * The MCP SDK's fetch over Latchkey's address guard. Redirects are never
 * followed here: the SDK decides (same origin only), so a request carrying
 * the upstream token cannot be bounced to another host.
 */
export function guardedFetch(outbound: OutboundFetch, timeoutMs: number): FetchLike {
  return async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const out: OutboundInit = { method: init?.method ?? 'GET', headers, redirect: 'manual' };
    if (init?.body !== undefined && init.body !== null) out.body = init.body as OutboundInit['body'];
    const signals = [AbortSignal.timeout(timeoutMs), ...(init?.signal ? [init.signal] : [])];
    out.signal = AbortSignal.any(signals);
    return outbound(String(url), out);
  };
}
