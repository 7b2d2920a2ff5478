import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ClaimFence, Store } from '../store/index.js';

/**
 * The holder's side of the refresh claim: while its token request and commit
 * are under way it renews the lease every third of the TTL, so a live holder
 * never lets its claim lapse however slow the provider is. A renewal that
 * finds the claim taken means another replica owns it now: `lost` is set and
 * the holder must not send (its commit is fenced anyway).
 */
export interface Heartbeat {
  readonly lost: boolean;
  stop(): void;
}

export interface HeartbeatDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
}

export function startHeartbeat(deps: HeartbeatDeps, id: string, fence: ClaimFence, ttlSeconds: number): Heartbeat {
  let lost = false;
  let renewing = false;
  const timer = setInterval(() => {
    if (renewing || lost) return;
    renewing = true;
    const until = new Date(deps.clock.now().getTime() + ttlSeconds * 1000).toISOString();
    deps.store.connections
      .renewClaim(id, fence, until)
      .then((renewed) => {
        if (!renewed) {
          lost = true;
          deps.logger.warn({ connectionId: id, owner: fence.owner }, 'refresh claim lost to another replica');
        }
      })
      .catch((err: unknown) => {
        // The database is away: keep trying; the commit path keeps the answer meanwhile.
        deps.logger.warn({ connectionId: id, err: err instanceof Error ? err.message : String(err) }, 'could not renew the refresh claim');
      })
      .finally(() => {
        renewing = false;
      });
  }, Math.max(50, (ttlSeconds * 1000) / 3));
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    stop: () => clearInterval(timer),
  };
}
