import { AsyncLocalStorage } from 'node:async_hooks';
import type { AdapterPayload } from 'oidc-provider';
import type { Clock } from '../../clock.js';
import { isLoopbackOrigin } from '../../config/index.js';
import type { Logger } from '../../log.js';
import type { OutboundFetch } from '../../net/index.js';
import { AuthFailureLimit } from '../auth-limit.js';

/** Documents are small; a larger answer is not a client's metadata. */
const MAX_BYTES = 16 * 1024;
const MAX_ENTRIES = 200;
const MIN_TTL_S = 60;
const MAX_TTL_S = 3600;
const FETCH_TIMEOUT_MS = 5000;
/** Documents one address may make Latchkey fetch in an hour (cache misses only): no fetch amplifier for anyone who can reach /mcp-oauth. */
export const MCP_METADATA_FETCHES_PER_HOUR = 30;
/** A refused document is not fetched again for this long, however often it is named. */
const REFUSED_TTL_S = MIN_TTL_S;

/** The address of the request the authorization server is answering (set around each /mcp-oauth request). */
const requester = new AsyncLocalStorage<string>();

/** Runs an /mcp-oauth request's handling as coming from `source`, so document fetches are counted against it. */
export function asRequester<T>(source: string, handle: () => T): T {
  return requester.run(source, handle);
}

/** Whether this code runs inside an /mcp-oauth request's handling (asRequester). */
export function inMcpOauthRequest(): boolean {
  return requester.getStore() !== undefined;
}

export interface MetadataDocuments {
  /** The client's metadata for a client_id that is a metadata document URL; undefined for any other id or a bad document. */
  resolve(clientId: string): Promise<AdapterPayload | undefined>;
  /** Whether this client_id names a metadata document (so the consent page can say where the metadata came from). */
  isDocumentUrl(clientId: string): boolean;
  /** The document if it is in the cache, never fetching it: for lists an operator reads, which must not make Latchkey fetch. */
  cached(clientId: string): AdapterPayload | undefined;
}

/**
 * Client ID Metadata Documents: a client_id that is an https URL names a JSON
 * document describing the client. It is fetched through the outbound address
 * guard (so it cannot be aimed at internal services), checked, and cached
 * for a bounded time. Plain http only on loopback, and only with LATCHKEY_ALLOW_HTTP_LOOPBACK.
 */
export function metadataDocuments(deps: { fetch: OutboundFetch; clock: Clock; logger: Logger; allowHttpLoopback: boolean }): MetadataDocuments {
  const cache = new Map<string, { payload: AdapterPayload; until: number }>();
  const pending = new Map<string, Promise<AdapterPayload | undefined>>();
  const refused = new Map<string, number>();
  const fetches = new AuthFailureLimit(deps.clock, { limit: MCP_METADATA_FETCHES_PER_HOUR, windowSeconds: 3600 });

  function isDocumentUrl(clientId: string): boolean {
    if (clientId.length > 2048 || /[\s\\]/.test(clientId)) return false;
    let url: URL;
    try {
      url = new URL(clientId);
    } catch {
      return false;
    }
    if (url.username !== '' || url.password !== '' || url.hash !== '' || clientId.includes('#')) return false;
    if (url.pathname === '/' || url.href !== clientId) return false;
    if (url.protocol === 'https:') return true;
    return url.protocol === 'http:' && deps.allowHttpLoopback && isLoopbackOrigin(url.origin);
  }

  function refuse(clientId: string, reason: string): undefined {
    refused.delete(clientId);
    refused.set(clientId, deps.clock.now().getTime() + REFUSED_TTL_S * 1000);
    if (refused.size > MAX_ENTRIES) refused.delete(refused.keys().next().value as string);
    deps.logger.warn({ clientId: clientId.slice(0, 300), reason }, 'an MCP client metadata document was refused');
    return undefined;
  }

  async function fetchDocument(clientId: string): Promise<AdapterPayload | undefined> {
    let response: Response;
    try {
      response = await deps.fetch(clientId, { method: 'GET', headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (err) {
      return refuse(clientId, `could not be fetched: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      return refuse(clientId, `answered HTTP ${response.status}`);
    }
    const text = await readLimited(response);
    if (text === undefined) return refuse(clientId, `is larger than ${MAX_BYTES} bytes`);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return refuse(clientId, 'is not JSON');
    }
    const problem = checkDocument(clientId, doc);
    if (problem !== undefined) return refuse(clientId, problem);
    const payload = { ...(doc as AdapterPayload), client_id: clientId, token_endpoint_auth_method: 'none' };
    cache.set(clientId, { payload, until: deps.clock.now().getTime() + ttlOf(response) * 1000 });
    if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
    return payload;
  }

  return {
    isDocumentUrl,
    cached(clientId) {
      const hit = cache.get(clientId);
      return hit !== undefined && hit.until > deps.clock.now().getTime() ? hit.payload : undefined;
    },
    async resolve(clientId) {
      if (!isDocumentUrl(clientId)) return undefined;
      const hit = cache.get(clientId);
      if (hit !== undefined && hit.until > deps.clock.now().getTime()) return hit.payload;
      cache.delete(clientId);
      const now = deps.clock.now().getTime();
      if ((refused.get(clientId) ?? 0) > now) return undefined;
      // One fetch per document at a time, however many requests name it.
      let request = pending.get(clientId);
      if (request === undefined) {
        const source = requester.getStore();
        if (source !== undefined) {
          if (fetches.blockedFor(source) > 0) {
            deps.logger.warn({ clientId: clientId.slice(0, 300) }, 'an MCP client metadata document was not fetched: this address asked for too many');
            return undefined;
          }
          fetches.fail(source);
        }
        request = fetchDocument(clientId).finally(() => pending.delete(clientId));
        pending.set(clientId, request);
      }
      return request;
    },
  };
}

/** The draft's rules: the document names itself, has redirect URIs, and uses no shared secret. */
function checkDocument(clientId: string, doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'is not a JSON object';
  const d = doc as Record<string, unknown>;
  if (d.client_id !== clientId) return 'names another client_id than its own URL';
  if (!Array.isArray(d.redirect_uris) || d.redirect_uris.length === 0 || !d.redirect_uris.every((u) => typeof u === 'string')) {
    return 'has no redirect_uris';
  }
  if (d.token_endpoint_auth_method !== undefined && d.token_endpoint_auth_method !== 'none') {
    return 'must use token_endpoint_auth_method "none"';
  }
  if ('client_secret' in d || 'client_secret_expires_at' in d) return 'must not carry a client secret';
  return undefined;
}

function ttlOf(response: Response): number {
  const match = /(?:^|,)\s*max-age\s*=\s*(\d+)/i.exec(response.headers.get('cache-control') ?? '');
  const seconds = match === null ? MIN_TTL_S * 5 : Number(match[1]);
  return Math.max(MIN_TTL_S, Math.min(MAX_TTL_S, seconds));
}

async function readLimited(response: Response): Promise<string | undefined> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BYTES) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
