import { request } from 'node:http';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: Record<string, unknown> & { error?: string; message?: string };
}

/** A raw request, so a test can send Host, Origin, Cookie and any content type, as a browser would. */
export function raw(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const contentType = body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json' };
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname,
        port,
        method,
        path,
        headers: { host: `127.0.0.1:${port}`, ...contentType, ...(text === undefined ? {} : { 'content-length': String(Buffer.byteLength(text)) }), ...headers },
      },
      (res) => {
        let data = '';
        res.on('data', (d: Buffer) => (data += d.toString()));
        res.on('end', () => {
          let parsed: RawAnswer['body'] = {};
          try {
            parsed = JSON.parse(data) as RawAnswer['body'];
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: data, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** A signed-in console: its cookie and CSRF token, and a request that carries both as the SPA would. */
export interface ConsoleSession {
  cookie: string;
  csrfToken: string;
  setCookie: string;
  call(method: string, path: string, body?: unknown, extra?: Record<string, string>): Promise<RawAnswer>;
}

export async function signIn(url: string, credentials: { name: string; password: string } | { signInToken: string }): Promise<ConsoleSession> {
  const origin = new URL(url).origin.replace('localhost', '127.0.0.1');
  const res = await raw(url, 'POST', '/v1/sessions', { origin }, credentials);
  if (res.status !== 201) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
  const setCookie = [res.headers['set-cookie'] ?? []].flat()[0] as string;
  const cookie = setCookie.split(';')[0] as string;
  const csrfToken = res.body.csrfToken as string;
  return {
    cookie,
    csrfToken,
    setCookie,
    call: (method, path, body, extra = {}) =>
      raw(url, method, path, { cookie, origin, 'sec-fetch-site': 'same-origin', ...(method === 'GET' ? {} : { 'x-latchkey-csrf': csrfToken }), ...extra }, body),
  };
}
