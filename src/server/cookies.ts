import { isLoopbackOrigin } from '../config/index.js';
import type { Latchkey } from '../latchkey.js';

/** The value of one cookie in a `Cookie` request header (RFC 6265 §5.4), or undefined. */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The console session cookie: `__Host-lk_session` (Secure, Path=/, no Domain)
 * wherever the browser allows it, an https public URL or this machine (browsers
 * treat http://127.0.0.1 and localhost as secure contexts). Only an accepted
 * insecure public URL (LATCHKEY_INSECURE_PUBLIC_URL) falls back to a plain cookie.
 */
export function sessionCookie(core: Latchkey): { name: string; secure: boolean } {
  const publicUrl = core.config.publicUrl;
  const secure = publicUrl.startsWith('https:') || isLoopbackOrigin(publicUrl);
  return { name: secure ? '__Host-lk_session' : 'lk_session', secure };
}

/** `Set-Cookie` for a new session; SameSite=Strict so no other site's page or link carries it. */
export function sessionSetCookie(core: Latchkey, value: string, maxAgeSeconds: number): string {
  const { name, secure } = sessionCookie(core);
  return `${name}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function sessionClearCookie(core: Latchkey): string {
  return sessionSetCookie(core, '', 0);
}
