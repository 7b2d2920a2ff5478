import type { ClaimFence, ConnectionRow } from '../store/index.js';
import type { RefreshContext } from './refresh.js';

/**
 * Thrown instead of refreshing when an upstream 401 asks for a refresh within
 * the connection's cooldown and nobody is refreshing it: the 401 is relayed.
 */
export class WithinUnauthorizedCooldown extends Error {
  constructor(readonly connection: string) {
    super(`an upstream 401 already refreshed connection "${connection}" within the cooldown`);
    this.name = 'WithinUnauthorizedCooldown';
  }
}

/**
 * The refresh claim for a refresh an upstream 401 asks for: at most one such
 * refresh per connection per cooldown, across replicas (an API that answers
 * 401 to everything must not turn every request into a refresh grant).
 * False: someone else holds the claim (wait for them as usual).
 */
export async function claimAfterUnauthorized(
  ctx: RefreshContext,
  row: ConnectionRow,
  owner: string,
  now: Date,
  until: string,
): Promise<ClaimFence | undefined> {
  const cooldownSince = new Date(now.getTime() - ctx.settings.unauthorizedCooldownSeconds * 1000).toISOString();
  const at = now.toISOString();
  const fence = await ctx.store.connections.claimRefresh(row.id, owner, at, until, cooldownSince);
  if (fence !== undefined) return fence;
  const current = await ctx.store.connections.findById(row.id);
  if (current !== undefined && current.refreshClaimUntil !== null && current.refreshClaimUntil > at) return undefined;
  ctx.logger.info({ connection: row.name }, 'upstream answered 401 again within the refresh cooldown; relaying it');
  throw new WithinUnauthorizedCooldown(row.name);
}
