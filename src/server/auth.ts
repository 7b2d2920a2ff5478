import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedAgent } from '../agents/index.js';
import { ANONYMOUS_ACTOR } from '../audit/index.js';
import { Unauthorized } from '../errors.js';
import type { Latchkey } from '../latchkey.js';
import { pathOf } from '../log.js';

/** The credential in `Authorization: Bearer x` or `Authorization: token x` (what GitHub clients send). */
export function credentialOf(request: FastifyRequest): string | undefined {
  return credentialFromHeader(request.headers.authorization);
}

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

export function requireAdmin(request: FastifyRequest, adminToken: string): void {
  const credential = credentialOf(request);
  if (credential === undefined || !safeEqual(credential, adminToken)) {
    throw new Unauthorized('a valid admin token is required (Authorization: Bearer <admin token>)');
  }
}

/** Agent auth for every agent-facing route: a bad key is refused and audited as `auth.denied` (without the key). */
export async function authenticateAgent(core: Latchkey, request: { method?: string | undefined; url?: string | undefined; authorization?: string | undefined }): Promise<AuthenticatedAgent> {
  try {
    return await core.agents.authenticate(credentialFromHeader(request.authorization));
  } catch (err) {
    await core.audit.record({
      actor: ANONYMOUS_ACTOR,
      action: 'auth.denied',
      outcome: 'denied',
      detail: { reason: 'unauthorized', method: request.method ?? 'GET', path: pathOf(request.url ?? '').slice(0, 200) },
    });
    throw err;
  }
}
