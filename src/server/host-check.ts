import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { Forbidden, InvalidRequest } from '../errors.js';
import type { Latchkey } from '../latchkey.js';

/** Health probes come from load balancers by whatever name or address they use, and reveal nothing. */
const UNGUARDED_PATHS = new Set(['/healthz', '/readyz']);

function hostnameOf(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') === -1 ? undefined : host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/**
 * DNS-rebinding defence: a page on evil.example that makes its own name resolve
 * to 127.0.0.1 still sends `Host: evil.example`. Names are answered only when
 * they are the public URL's, `localhost`, or listed in LATCHKEY_ALLOWED_HOSTS;
 * an IP literal cannot be rebound, so it is always answered.
 */
export function hostGuard(core: Latchkey): (req: IncomingMessage) => void {
  let builtFor = '';
  let names = new Set<string>();
  const allowedNames = (): Set<string> => {
    const publicUrl = core.config.publicUrl;
    if (publicUrl !== builtFor) {
      names = new Set(['localhost', new URL(publicUrl).hostname.toLowerCase(), ...core.config.allowedHosts]);
      builtFor = publicUrl;
    }
    return names;
  };
  return (req) => {
    const header = req.headers.host;
    // Browsers always send Host; only a non-browser HTTP/1.0 client can leave it out.
    if (header === undefined) return;
    const hostname = hostnameOf(header);
    if (isIP(hostname) !== 0 || allowedNames().has(hostname)) return;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (UNGUARDED_PATHS.has(path)) return;
    throw new InvalidRequest(
      `this server does not answer to the host name "${hostname.slice(0, 100)}": set LATCHKEY_PUBLIC_URL or LATCHKEY_ALLOWED_HOSTS to serve it`,
    );
  };
}

/**
 * Admin routes refuse requests a browser sends on behalf of another site
 * (CSRF): a foreign `Origin`, or `Sec-Fetch-Site: cross-site`. Scripts and
 * the CLI send neither header.
 */
export function refuseCrossOrigin(core: Latchkey, request: FastifyRequest): void {
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  if (site === 'cross-site' || (origin !== undefined && !sameOrigin(core, origin, request.headers.host))) {
    throw new Forbidden('cross-origin requests to admin routes are refused');
  }
}

export function sameOrigin(core: Latchkey, origin: string, host: string | undefined): boolean {
  if (origin === new URL(core.config.publicUrl).origin) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && host !== undefined && url.host === host.toLowerCase();
  } catch {
    // "null" (a sandboxed frame, a file: page) and anything unparsable.
    return false;
  }
}
