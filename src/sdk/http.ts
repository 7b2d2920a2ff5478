import { urlUnder } from './paths.js';

/** An error answered by the Latchkey API, carrying its stable `error` code. */
export class LatchkeyApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: Record<string, unknown>;
  constructor(status: number, code: string, message: string, body: Record<string, unknown>) {
    super(message);
    this.name = 'LatchkeyApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** The server could not be reached at all. */
export class LatchkeyConnectionError extends Error {
  constructor(url: string, options?: { cause?: unknown }) {
    super(`cannot reach Latchkey at ${url}; is \`latchkey serve\` running? (set LATCHKEY_URL otherwise)`, options);
    this.name = 'LatchkeyConnectionError';
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface ClientOptions {
  /** Latchkey's base URL, e.g. http://127.0.0.1:8787 */
  url: string;
  /** Admin token or agent key. */
  token?: string;
  fetch?: typeof fetch;
  /**
   * Browser session mode (the console): no token; the session cookie goes with
   * every request (`credentials: 'same-origin'`) and each request that changes
   * something carries the session's CSRF token in `X-Latchkey-CSRF`.
   */
  session?: { csrfToken(): string | undefined };
}

export class HttpClient {
  readonly url: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #session: ClientOptions['session'];

  constructor(options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    // Bound: a browser's fetch called as a method of another object throws "Illegal invocation".
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#session = options.session;
  }

  /** Sends a request and returns the raw response (any status). */
  async raw(method: string, path: string, init: { body?: unknown; query?: Query; headers?: Record<string, string> } = {}): Promise<Response> {
    // `path` is a route built from encoded segments: it must resolve to itself, not to another route.
    const target = urlUnder(this.url, path, path.split('?', 1)[0] ?? '');
    for (const [k, v] of Object.entries(init.query ?? {})) {
      if (v !== undefined) target.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...(init.headers ?? {}) };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    const csrf = this.#session?.csrfToken();
    if (csrf !== undefined && method !== 'GET' && method !== 'HEAD') headers['x-latchkey-csrf'] = csrf;
    let body: string | undefined;
    if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    try {
      return await this.#fetch(target, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(this.#session === undefined ? {} : { credentials: 'same-origin' as const }),
      });
    } catch (cause) {
      throw new LatchkeyConnectionError(this.url, { cause });
    }
  }

  async json<T>(method: string, path: string, init: { body?: unknown; query?: Query } = {}): Promise<T> {
    const response = await this.raw(method, path, init);
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
      const code = typeof body.error === 'string' ? body.error : 'http_error';
      const message = typeof body.message === 'string' ? body.message : `HTTP ${response.status}`;
      throw new LatchkeyApiError(response.status, code, message, body);
    }
    return parsed as T;
  }
}
