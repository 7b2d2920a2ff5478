import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * The part of `fetch` the SDK uses, over node:http. Node's own fetch loads
 * and compiles undici (its HTTP parser is WebAssembly) on first use: about a
 * third of a short command's CPU time. The CLI makes one or two requests per
 * run, so it passes this to the SDK instead (issue 14 item 6). Bodies it cannot
 * send as they are (streams, forms) go to the real fetch.
 */
class LightHeaders {
  readonly #map = new Map<string, string>();
  constructor(raw: IncomingHttpHeaders) {
    for (const [name, value] of Object.entries(raw)) {
      if (value !== undefined) this.#map.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
  }
  get(name: string): string | null {
    return this.#map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.#map.has(name.toLowerCase());
  }
  forEach(fn: (value: string, name: string) => void): void {
    this.#map.forEach((value, name) => fn(value, name));
  }
  entries(): IterableIterator<[string, string]> {
    return this.#map.entries();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.#map.entries();
  }
}

class LightResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: LightHeaders;
  readonly url: string;
  readonly redirected = false;
  readonly #body: Buffer;
  bodyUsed = false;
  constructor(url: string, status: number, statusText: string, headers: IncomingHttpHeaders, body: Buffer) {
    this.url = url;
    this.status = status;
    this.statusText = statusText;
    this.ok = status >= 200 && status < 300;
    this.headers = new LightHeaders(headers);
    this.#body = body;
  }
  async text(): Promise<string> {
    this.bodyUsed = true;
    return this.#body.toString('utf8');
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    this.bodyUsed = true;
    return this.#body.buffer.slice(this.#body.byteOffset, this.#body.byteOffset + this.#body.byteLength) as ArrayBuffer;
  }
}

/** Headers as a plain object, or undefined for a Headers instance (left to the real fetch: touching the class loads undici). */
function plainHeaders(headers: RequestInit['headers']): Record<string, string> | undefined {
  if (headers === undefined) return {};
  if (Array.isArray(headers)) return Object.fromEntries(headers.map(([k, v]) => [k, v] as [string, string]));
  const proto: unknown = Object.getPrototypeOf(headers);
  return proto === Object.prototype || proto === null ? { ...(headers as Record<string, string>) } : undefined;
}

export const lightFetch = (async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
  const headers = plainHeaders(init.headers);
  const body = init.body;
  const simpleBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
  if (typeof input !== 'string' && !(input instanceof URL)) return fetch(input, init);
  if (!simpleBody || headers === undefined || init.signal != null) return fetch(input, init);
  const url = new URL(input);
  const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
  if (send === undefined) return fetch(input, init);
  return new Promise<Response>((resolve, reject) => {
    const req = send(url, { method: init.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve(new LightResponse(url.href, res.statusCode ?? 0, res.statusMessage ?? '', res.headers, Buffer.concat(chunks)) as unknown as Response),
      );
      res.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
    });
    req.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
    req.end(body ?? undefined);
  });
}) as typeof fetch;
