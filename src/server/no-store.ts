import type { FastifyReply } from 'fastify';

/**
 * For every response that carries a token, key or secret: no cache (browser,
 * proxy, CDN) may keep a copy (RFC 9111 no-store; Pragma for HTTP/1.0 caches).
 */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}
