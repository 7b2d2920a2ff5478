import type { FastifyRequest } from 'fastify';
import { Forbidden } from '../errors.js';
import type { Latchkey } from '../latchkey.js';
import { roleAtLeast, type Role } from '../operators/index.js';
import { actorOf, roleOfPrincipal, type Principal } from './principal.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least operator role an admin-scope route needs (CONTRACTS.md); see `requiredRole`. */
    role?: Role;
  }
  interface FastifyInstance {
    /** Every admin-scope route with the least role it needs (filled as routes register). */
    adminRoutes: AdminRoute[];
  }
}

export interface AdminRoute {
  method: string;
  url: string;
  role: Role;
}

/**
 * Roles of the admin routes that were written before roles existed, so their
 * files need not change; a route's own `config.role` wins. Routes not named
 * here and without `config.role` take the default of `requiredRole`.
 */
export const ROUTE_ROLES: Readonly<Record<string, Role>> = {
  'POST /v1/connect/:provider': 'operator',
  'POST /v1/connect/:provider/device': 'operator',
  'POST /v1/connect/:provider/client-credentials': 'operator',
  'POST /v1/connections/:id/refresh': 'operator',
  'DELETE /v1/connections/:id': 'operator',
  'POST /v1/agents': 'operator',
  'PATCH /v1/agents/:id': 'operator',
  'DELETE /v1/agents/:id': 'operator',
  'POST /v1/agents/:id/keys': 'operator',
  'DELETE /v1/agents/:id/keys/:keyId': 'operator',
  // A secret-bearing read.
  'GET /v1/connections/:id/token': 'admin',
};

/** Reads are open to viewers, changes need admin, unless the route says otherwise. */
export function defaultRole(method: string, url: string): Role {
  // HEAD runs the GET handler (Fastify's automatic HEAD routes), so it needs what GET needs.
  const named = ROUTE_ROLES[`${method === 'HEAD' ? 'GET' : method} ${url}`];
  if (named !== undefined) return named;
  return method === 'GET' || method === 'HEAD' ? 'viewer' : 'admin';
}

export function requiredRole(request: FastifyRequest): Role {
  return request.routeOptions.config.role ?? defaultRole(request.method, request.routeOptions.url ?? '');
}

/** Refuses (403, audited as `auth.forbidden`) a principal whose role is below `need`. */
export async function requireRole(core: Latchkey, request: FastifyRequest, principal: Principal, need: Role): Promise<void> {
  const have = roleOfPrincipal(principal);
  if (roleAtLeast(have, need)) return;
  await core.audit.record({
    actor: actorOf(principal),
    action: 'auth.forbidden',
    outcome: 'denied',
    detail: { role: have, required: need, method: request.method, route: request.routeOptions.url ?? 'unmatched' },
  });
  throw new Forbidden(`this needs the ${need} role; the caller has the ${have} role`);
}
