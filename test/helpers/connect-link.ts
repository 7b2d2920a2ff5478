import assert from 'node:assert/strict';
import type { CookieJar } from './oauth-flows.js';

/** A connect link as POST /v1/connect-links answers it. */
export interface CreatedLink {
  id: string;
  url: string;
  expiresAt: string;
}

function remember(jar: CookieJar, res: Response): void {
  for (const line of res.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
}

function cookieHeader(jar: CookieJar): Record<string, string> {
  return jar.size === 0 ? {} : { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
}

/** The end user opens the link: the page, without using it up. */
export async function openConnectPage(url: string): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/**
 * The Continue button: a form POST from the page itself (a browser sends its
 * Origin), keeping the flow cookie in `jar`. `headers` replaces the Origin.
 */
export async function pressContinue(
  url: string,
  jar: CookieJar,
  headers: Record<string, string> = { origin: new URL(url).origin, 'sec-fetch-site': 'same-origin' },
): Promise<{ status: number; body: string; location: string | null; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...cookieHeader(jar), ...headers },
    body: '',
  });
  remember(jar, res);
  return { status: res.status, body: await res.text(), location: res.headers.get('location'), headers: res.headers };
}

/** Continue, expecting to be sent on to the provider; returns the provider URL. */
export async function continueToProvider(url: string, jar: CookieJar): Promise<string> {
  const res = await pressContinue(url, jar);
  assert.equal(res.status, 303, res.body.slice(0, 300));
  assert.ok(res.location, 'a Location to the provider');
  return res.location;
}

export function goneKind(html: string): string | undefined {
  return /data-link="([^"]*)"/.exec(html)?.[1];
}
