import { AsyncLocalStorage } from 'node:async_hooks';
import { ADMIN_ACTOR, type Actor } from './types.js';

// Who is acting on the admin API in this request: set by the server around each admin
// handler, read by `audit.admin(...)`, so every route records its operator without
// passing the principal down through the domain.
const acting = new AsyncLocalStorage<Actor>();

/** Runs `work` with `actor` as the one `audit.admin` records. */
export function actingAs<T>(actor: Actor, work: () => T): T {
  return acting.run(actor, work);
}

/** The actor of the admin request in progress; the admin token's actor outside one. */
export function currentAdminActor(): Actor {
  return acting.getStore() ?? ADMIN_ACTOR;
}
