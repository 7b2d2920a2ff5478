import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedAgent } from '../agents/index.js';
import { ANONYMOUS_ACTOR } from '../audit/index.js';
import { Forbidden, RateLimited, Unauthorized } from '../errors.js';
import type { Latchkey } from '../latchkey.js';
import { pathOf } from '../log.js';
import { AuthFailureLimit, sourceOf } from './auth-limit.js';
import { rememberPrincipal, type Principal } from './principal.js';
import { cookieOf, sessionCookie } from './cookies.js';
import { refuseCrossOrigin } from './host-check.js';
import { requireRole, requiredRole } from './roles.js';

/** What authentication reads of a request: node's own, so the proxy (before Fastify) and Fastify's routes share it. */
export type AuthRequest = Pick<IncomingMessage, 'method' | 'url' | 'headers' | 'socket'>;

// One limit per core, so the proxy handler and every Fastify scope of a server count together.
const limits = new WeakMap<Latchkey, AuthFailureLimit>();

export function authFailureLimit(core: Latchkey): AuthFailureLimit {
  let limit = limits.get(core);
  if (limit === undefined) {
    limit = new AuthFailureLimit(core.clock, { limit: core.config.authFailureLimit, windowSeconds: core.config.authFailureWindowSeconds });
    limits.set(core, limit);
  }
  return limit;
}

/**
 * Refuses, before any credential is looked at, a source that failed too often:
 * a valid credential from it is refused too, or the limit would still answer
 * every guess (429 for wrong, 200 for right). Only the first refusal of a
 * window is audited, so a flood cannot fill the audit log.
 */
export async function refuseIfLimited(core: Latchkey, request: AuthRequest): Promise<string> {
  const limit = authFailureLimit(core);
  const source = sourceOf(request, core.config.trustProxy);
  const seconds = limit.blockedFor(source);
  if (seconds === 0) return source;
  if (limit.announce(source)) {
    const { limit: failures, windowSeconds } = limit.settings;
    try {
      await core.audit.record({
        actor: ANONYMOUS_ACTOR,
        action: 'auth.rate_limited',
        outcome: 'denied',
        detail: { source, failures, windowSeconds, retryAfter: seconds, method: request.method ?? 'GET', path: pathOf(request.url ?? '').slice(0, 200) },
      });
    } catch (err) {
      limit.unannounce(source);
      throw err;
    }
  }
  throw new RateLimited(`too many failed authentications from this address; try again in ${seconds} s`, seconds);
}

/** The credential in `Authorization: Bearer x` or `Authorization: token x` (what GitHub clients send). */
export function credentialFromHeader(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Compares in constant time (over fixed-length digests, so length leaks nothing either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The header a cookie-authenticated request that changes something must carry (the session's CSRF token). */
export const CSRF_HEADER = 'x-latchkey-csrf';

export { actorOf, principalOf, rememberPrincipal, roleOfPrincipal, type Principal } from './principal.js';

/** Refuses (403) a cookie request that does not show its session's CSRF token in `CSRF_HEADER`. */
export function requireCsrfToken(request: FastifyRequest, csrfToken: string): void {
  const header = request.headers[CSRF_HEADER];
  if (typeof header !== 'string' || !safeEqual(header, csrfToken)) {
    throw new Forbidden(`a request made with the session cookie must carry the session's CSRF token in ${CSRF_HEADER}`);
  }
}

function isSafeMethod(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/**
 * Authenticates an admin-scope request. A bearer credential wins over a cookie;
 * a cookie session must also show its CSRF token on every request that can
 * change something (the caller checks Origin / Sec-Fetch-Site before this).
 */
export async function authenticatePrincipal(core: Latchkey, request: FastifyRequest): Promise<Principal> {
  const source = await refuseIfLimited(core, request.raw);
  const credential = credentialFromHeader(request.headers.authorization);
  if (credential !== undefined) {
    if (core.adminCredential.verify(credential)) return { kind: 'admin' };
    const byKey = credential.startsWith('lko_') ? await core.operators.authenticateKey(credential) : undefined;
    if (byKey !== undefined) return { kind: 'operator', id: byKey.operator.id, name: byKey.operator.name, role: byKey.role, via: 'key' };
    authFailureLimit(core).fail(source);
    throw new Unauthorized('a valid admin token or operator key is required (Authorization: Bearer <token>)');
  }
  const sessionId = cookieOf(request.headers.cookie, sessionCookie(core).name);
  if (sessionId !== undefined) {
    // A stale cookie is not a guess (the id is 256 random bits), so it does not count against the source.
    const session = await core.operators.resumeSession(sessionId);
    if (session === undefined) throw new Unauthorized('the console session has ended; sign in again');
    if (!isSafeMethod(request.method)) requireCsrfToken(request, session.csrfToken);
    const { operator } = session;
    return { kind: 'operator', id: operator.id, name: operator.name, role: operator.role, via: 'session' };
  }
  authFailureLimit(core).fail(source);
  throw new Unauthorized('a valid admin token, operator key or console session is required (Authorization: Bearer <token>)');
}

/** Agent auth for every agent-facing route: a bad key is refused and audited as `auth.denied` (without the key). */
export async function authenticateAgent(core: Latchkey, request: AuthRequest): Promise<AuthenticatedAgent> {
  return checkAgentKey(core, request, await refuseIfLimited(core, request));
}

/**
 * For routes open to agents and to the operator side (ending a lease, reading
 * proposals, making connect links): an agent key is checked as on agent routes
 * (a bad one audited as `auth.denied`) and the agent returned. Anything else is
 * authenticated as on admin routes (admin token, operator key or console
 * session, with the Origin and CSRF checks of a session), must hold the route's
 * role (`config.role`, see roles.ts), and is returned as the `Principal`
 * (also kept for `principalOf(request)`). Tell them apart with `'kind' in by`.
 */
export async function authenticateAdminOrAgent(core: Latchkey, request: FastifyRequest): Promise<AuthenticatedAgent | Principal> {
  const credential = credentialFromHeader(request.headers.authorization);
  if (credential !== undefined && !credential.startsWith('lko_') && !core.adminCredential.verify(credential)) {
    return checkAgentKey(core, request.raw, await refuseIfLimited(core, request.raw));
  }
  // A console session rides on a cookie: refuse what another site's page sends.
  if (credential === undefined) refuseCrossOrigin(core, request);
  const principal = await authenticatePrincipal(core, request);
  await requireRole(core, request, principal, requiredRole(request));
  rememberPrincipal(request, principal);
  return principal;
}

// Credentials the /mcp endpoint hands its own tools for the length of one request (see issueInternalCredential).
const internalCredentials = new WeakMap<Latchkey, Map<string, AuthenticatedAgent>>();
const INTERNAL_PREFIX = 'lki_';

/**
 * The /mcp endpoint runs its tools over the agent SDK, through this server's
 * own routes, as the agent its caller authenticated as. Rather than let the
 * caller's access token (audience: /mcp only) work on the REST API, it gets a
 * random credential that exists only in this process's memory, names that
 * agent, and is forgotten when the MCP request ends.
 */
export function issueInternalCredential(core: Latchkey, agent: AuthenticatedAgent): { credential: string; release(): void } {
  let map = internalCredentials.get(core);
  if (map === undefined) {
    map = new Map();
    internalCredentials.set(core, map);
  }
  const credential = `${INTERNAL_PREFIX}${randomBytes(32).toString('base64url')}`;
  map.set(credential, agent);
  const owner = map;
  return { credential, release: () => void owner.delete(credential) };
}

/**
 * /mcp's callers: an access token Latchkey's authorization server issued for
 * /mcp (it acts as the agent an operator chose at consent), or an agent key.
 * `verifyToken` answers undefined for anything that is not such a token.
 */
export async function authenticateMcpCaller(
  core: Latchkey,
  request: AuthRequest,
  verifyToken: (credential: string) => Promise<AuthenticatedAgent | undefined>,
): Promise<AuthenticatedAgent> {
  const credential = credentialFromHeader(request.headers.authorization);
  // No credential at all is how every MCP client starts (discovery), not a failed guess.
  if (credential === undefined) throw new Unauthorized('a bearer token is required');
  // An issued token is checked before the failure limit: hosts share addresses, and an expired 256-bit token is
  // no guess, so it must not lock out the valid tokens of everyone behind that address. Only agent keys count.
  const agent = await verifyToken(credential);
  if (agent !== undefined) return agent;
  const source = await refuseIfLimited(core, request);
  return checkAgentKey(core, request, source);
}

async function checkAgentKey(core: Latchkey, request: AuthRequest, source: string): Promise<AuthenticatedAgent> {
  try {
    const credential = credentialFromHeader(request.headers.authorization);
    if (credential?.startsWith(INTERNAL_PREFIX) === true) {
      const internal = internalCredentials.get(core)?.get(credential);
      if (internal !== undefined) return internal;
    }
    return await core.agents.authenticate(credential);
  } catch (err) {
    // A store failure is not a wrong key; only refusals count against the source.
    if (err instanceof Unauthorized) authFailureLimit(core).fail(source);
    await core.audit.record({
      actor: ANONYMOUS_ACTOR,
      action: 'auth.denied',
      outcome: 'denied',
      detail: { reason: 'unauthorized', source, method: request.method ?? 'GET', path: pathOf(request.url ?? '').slice(0, 200) },
    });
    throw err;
  }
}
