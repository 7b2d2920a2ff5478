import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Unauthorized } from '../errors.js';

/** The credential in `Authorization: Bearer x` or `Authorization: token x` (what GitHub clients send). */
export function credentialOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
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
