import { Readable, Transform, type TransformCallback } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { BodyTooLarge, InvalidRequest, UpstreamError, isLatchkeyError } from '../errors.js';
import type { Outbound } from '../net/index.js';
import type { HeaderMap } from './headers.js';

export interface ForwarderOptions {
  /** Largest request body forwarded, in bytes. */
  bodyLimit: number;
  /** Time to wait for the upstream's response headers, in ms. */
  headersTimeoutMs: number;
  /** Longest silence while the upstream sends its body, in ms. */
  bodyTimeoutMs: number;
}

export interface UpstreamRequest {
  origin: string;
  /** Path and query, exactly as they go on the request line. */
  path: string;
  method: string;
  headers: HeaderMap;
  body: Buffer | Readable | undefined;
  /** The agent's declared Content-Length for a streamed body (some APIs refuse chunked uploads). */
  contentLength?: number | undefined;
}

/** Bodies up to this size are held in memory so a request can be replayed after a 401. */
export const REPLAYABLE_BODY_LIMIT = 64 * 1024;

class BodyLimit extends Transform {
  #seen = 0;
  constructor(readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.limit) done(new BodyTooLarge());
    else done(null, chunk);
  }
}

/**
 * Sends requests upstream over one keep-alive undici Pool per origin.
 * Redirects are never followed: a 3xx goes back to the agent as it is.
 * Every new connection dials through the address guard (`outbound.connect`).
 */
export class Forwarder {
  readonly options: ForwarderOptions;
  readonly #outbound: Outbound;
  readonly #pools = new Map<string, Pool>();

  constructor(options: ForwarderOptions, outbound: Outbound) {
    this.options = options;
    this.#outbound = outbound;
  }

  #pool(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, { keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connect: this.#outbound.connect });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  /**
   * Prepares the agent's body: refuses a declared length over the limit,
   * holds small bodies (so they can be replayed) and streams the rest through a byte counter.
   */
  async prepareBody(stream: Readable | undefined, declaredLength: number | undefined): Promise<Buffer | Readable | undefined> {
    if (stream === undefined) return undefined;
    if (declaredLength !== undefined && declaredLength > this.options.bodyLimit) {
      stream.resume();
      throw new BodyTooLarge();
    }
    if (declaredLength !== undefined && declaredLength <= REPLAYABLE_BODY_LIMIT) {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    const limited = new BodyLimit(this.options.bodyLimit);
    // An agent that goes away mid-upload ends nothing: without this the upstream request would wait
    // for the rest of the body until the upstream timeout, holding its connection.
    stream.once('close', () => {
      if (!stream.readableEnded) limited.destroy(new InvalidRequest('the request body ended early: the agent closed the connection'));
    });
    // undici listens once it sends the body; until then (the audit or the token refused first), an
    // early close or an overflow must not be an error nobody listens to, which would end the process.
    limited.on('error', () => {});
    return stream.pipe(limited);
  }

  async send(request: UpstreamRequest): Promise<Dispatcher.ResponseData> {
    const headers = { ...request.headers };
    if (Buffer.isBuffer(request.body)) headers['content-length'] = String(request.body.length);
    else if (request.body !== undefined && request.contentLength !== undefined) headers['content-length'] = String(request.contentLength);
    try {
      return await this.#pool(request.origin).request({
        method: request.method as Dispatcher.HttpMethod,
        path: request.path,
        headers,
        body: request.body ?? null,
        headersTimeout: this.options.headersTimeoutMs,
        bodyTimeout: this.options.bodyTimeoutMs,
      });
    } catch (err) {
      if (isLatchkeyError(err)) throw err;
      const cause = (err as { cause?: unknown }).cause;
      if (isLatchkeyError(cause)) throw cause;
      const code = (err as { code?: unknown }).code;
      throw new UpstreamError(`the upstream API at ${request.origin} could not be reached (${typeof code === 'string' ? code : 'error'})`, {
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.close()));
  }
}
