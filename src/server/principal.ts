import type { FastifyRequest } from 'fastify';
import { ADMIN_ACTOR, type Actor } from '../audit/index.js';
import { Unauthorized } from '../errors.js';
import type { Role } from '../operators/index.js';

/**
 * Who calls an admin route: the admin token (break-glass, role admin), an
 * operator's `lko_` API key, or an operator's console session cookie.
 */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'operator'; id: string; name: string; role: Role; via: 'session' | 'key' };

const principals = new WeakMap<FastifyRequest, Principal>();

/** The principal an admin-scope hook authenticated for this request. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (principal === undefined) throw new Unauthorized('this request is not authenticated');
  return principal;
}

export function rememberPrincipal(request: FastifyRequest, principal: Principal): void {
  principals.set(request, principal);
}

export function roleOfPrincipal(principal: Principal): Role {
  return principal.kind === 'admin' ? 'admin' : principal.role;
}

/** The audit actor of a principal: the operator by name, or the one `admin` of the token. */
export function actorOf(principal: Principal): Actor {
  return principal.kind === 'admin' ? ADMIN_ACTOR : { type: 'operator', id: principal.id, name: principal.name };
}
