import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { UpstreamError } from '../errors.js';
import type { OutboundFetch, OutboundInit } from '../net/index.js';

/** A tool result is read whole (JSON) or as an event stream: this bounds what one answer may hold in memory. */
export const MAX_UPSTREAM_MCP_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Discovery documents (RFC 9728, RFC 8414) are a few KiB. */
export const MAX_DISCOVERY_RESPONSE_BYTES = 256 * 1024;

export interface GuardedFetchOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  /** Told when an answer went past the limit (its body then fails with the same error). */
  onOverflow?: (error: UpstreamError) => void;
}

/**
 * The MCP SDK's fetch over Latchkey's address guard. Redirects are never
 * followed here: the SDK decides (same origin only), so a request carrying
 * the upstream token cannot be bounced to another host. Every answer's body
 * is counted: past the limit it fails and the connection is dropped, so a
 * hostile server's endless or enormous answer cannot fill Latchkey's memory.
 */
export function guardedFetch(outbound: OutboundFetch, options: GuardedFetchOptions): FetchLike {
  return async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const out: OutboundInit = { method: init?.method ?? 'GET', headers, redirect: 'manual' };
    if (init?.body !== undefined && init.body !== null) out.body = init.body as OutboundInit['body'];
    const signals = [AbortSignal.timeout(options.timeoutMs), ...(init?.signal ? [init.signal] : [])];
    out.signal = AbortSignal.any(signals);
    return capped(await outbound(String(url), out), options);
  };
}

function capped(response: Response, options: GuardedFetchOptions): Response {
  if (response.body === null || [204, 205, 304].includes(response.status)) return response;
  const limit = options.maxResponseBytes;
  const tooLarge = (): UpstreamError => new UpstreamError(`the upstream MCP server's answer is larger than ${describeBytes(limit)}; it was not read`);
  if (Number(response.headers.get('content-length') ?? 0) > limit) {
    const error = tooLarge();
    void response.body.cancel().catch(() => undefined);
    options.onOverflow?.(error);
    throw error;
  }
  let seen = 0;
  const body = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) {
          const error = tooLarge();
          options.onOverflow?.(error);
          // Erroring the pipe cancels the source, which closes the upstream connection.
          controller.error(error);
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

function describeBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
}
