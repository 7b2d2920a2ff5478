import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with the authorization server's answer to a refresh_token grant. */
export type AnswerMode =
  /** Pass it on (after `delayMs`). */
  | 'forward'
  /** Keep it until release() (the provider has already rotated). */
  | 'hold'
  /** Throw it away and reset the connection: the answer is lost. */
  | 'drop'
  /** Pass it on with `access_token` made a number: a 200 that fails validation. */
  | 'mangle';

/**
 * A forwarding proxy in front of an authorization server's token endpoint:
 * it records every refresh token it forwards (so a test can assert the
 * provider never saw one twice) and can delay, hold or drop the answers,
 * which the provider has produced (and rotated for) at once.
 */
export interface TokenProxy {
  /** The token endpoint to register instead of the real one. */
  tokenEndpoint: string;
  /** Every refresh token sent with grant_type=refresh_token, in order. */
  refreshTokens: string[];
  /** Refresh tokens the provider put in answers, in order. */
  issuedRefreshTokens: string[];
  mode: AnswerMode;
  delayMs: number;
  /** Resolves once `n` answers are being held in 'hold' mode. */
  held(n: number): Promise<void>;
  /** Sends every held answer. */
  release(): void;
  /** Refresh tokens sent more than once. */
  repeats(): string[];
  close(): Promise<void>;
}

export async function startTokenProxy(target: string): Promise<TokenProxy> {
  const upstream = new URL(target);
  let holding: Array<() => void> = [];
  let holdWaiters: Array<{ n: number; resolve: () => void }> = [];
  const proxy: TokenProxy = {
    tokenEndpoint: '',
    refreshTokens: [],
    issuedRefreshTokens: [],
    mode: 'forward',
    delayMs: 0,
    held: (n) =>
      new Promise<void>((resolve) => {
        if (holding.length >= n) resolve();
        else holdWaiters.push({ n, resolve });
      }),
    release: () => {
      const sends = holding;
      holding = [];
      for (const send of sends) send();
    },
    repeats: () => proxy.refreshTokens.filter((t, i) => proxy.refreshTokens.indexOf(t) !== i),
    close: () =>
      new Promise<void>((resolve) => {
        proxy.release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: upstream.pathname, headers: { ...req.headers, host: upstream.host } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('error', reject);
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const params = new URLSearchParams(body.toString('utf8'));
    const isRefresh = params.get('grant_type') === 'refresh_token';
    if (isRefresh) proxy.refreshTokens.push(params.get('refresh_token') ?? '');
    const answer = await forward(req, body);
    if (isRefresh && answer.status === 200) {
      const issued = (JSON.parse(answer.body.toString('utf8')) as { refresh_token?: string }).refresh_token;
      if (issued !== undefined) proxy.issuedRefreshTokens.push(issued);
    }
    let out = answer.body;
    if (isRefresh && answer.status === 200 && proxy.mode === 'mangle') {
      out = Buffer.from(JSON.stringify({ ...(JSON.parse(out.toString('utf8')) as object), access_token: 42 }));
    }
    const send = (): void => {
      if (res.destroyed) return;
      res.writeHead(answer.status, { 'content-type': answer.headers['content-type'] ?? 'application/json', 'cache-control': 'no-store' });
      res.end(out);
    };
    if (!isRefresh) return send();
    if (proxy.mode === 'drop') {
      res.destroy();
      return;
    }
    if (proxy.mode === 'hold') {
      holding.push(send);
      holdWaiters = holdWaiters.filter((w) => (holding.length >= w.n ? (w.resolve(), false) : true));
      return;
    }
    if (proxy.delayMs > 0) setTimeout(send, proxy.delayMs);
    else send();
  };

  const server: Server = createServer((req, res) => {
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  proxy.tokenEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`;
  return proxy;
}
