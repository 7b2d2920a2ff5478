import type { Connection, ConnectionStatus } from '../connections/index.js';
import { Conflict } from '../errors.js';
import type { ConnectLinkRow } from '../store/index.js';

/**
 * A consent flow refused because its connection is no longer the one it was
 * started for (another consent finished it, or it was repaired): nothing is
 * stored and the connection is left exactly as it is.
 */
export class FlowRefused extends Conflict {}

/** The statuses an agent's reconnect link exists for: it may only ask a person to repair a broken connection. */
const AGENT_REPAIRABLE: readonly ConnectionStatus[] = ['needs_reauth', 'error'];

/** Whether an agent may have a reconnect link for a connection in this state: when it is made, opened and completed. */
export function agentMayRepair(status: ConnectionStatus): boolean {
  return AGENT_REPAIRABLE.includes(status);
}

/**
 * Why an agent's reconnect link no longer applies to its connection, or
 * undefined while it still does. The agent's policy allowed the link only
 * because the connection was broken; a link can outlive that by weeks.
 */
export function staleAgentReconnect(link: Pick<ConnectLinkRow, 'connectionId' | 'requestedBy'>, connection: Connection): string | undefined {
  if (link.connectionId !== connection.id || link.requestedBy.type !== 'agent' || agentMayRepair(connection.status)) return undefined;
  const now = connection.status === 'active' ? 'works again' : `is ${connection.status} now`;
  return `connection "${connection.name}" ${now}: this reconnect link, asked for by an agent while it was broken, no longer applies; nothing was changed`;
}

/** An attempt nobody finished: `error` too, when a sibling flow for the same name failed (it held no grant either way). */
const UNFINISHED: readonly ConnectionStatus[] = ['pending', 'error'];

/** What a flow may complete, checked before its code is redeemed and again in the write that stores its grant. */
export interface Completable {
  /** The statuses the row may have when the grant is written; undefined: any. */
  statuses: readonly ConnectionStatus[] | undefined;
  /** Only a connection that never held a grant (a new-connection link). */
  neverGranted: boolean;
}

/**
 * Which connection states a callback may still complete, or a FlowRefused:
 * - a reconnect link repairs its connection in place (an operator's link,
 *   whatever its status; an agent's only while it is broken);
 * - a new-connection link only finishes an attempt nobody finished: still
 *   `pending` (or `error`, failed by a sibling flow) and never held a grant;
 * - an operator's own flow anything not `active` (it may reconnect a broken
 *   or revoked one by name), but never a connection another flow finished.
 */
export function completable(link: ConnectLinkRow | undefined, connection: Connection): Completable {
  if (link !== undefined && link.connectionId === connection.id) {
    const stale = staleAgentReconnect(link, connection);
    if (stale !== undefined) throw new FlowRefused(stale);
    return { statuses: link.requestedBy.type === 'agent' ? AGENT_REPAIRABLE : undefined, neverGranted: false };
  }
  if (connection.status === 'active') {
    throw new FlowRefused(`connection "${connection.name}" was already connected by another consent meanwhile; nothing was changed`);
  }
  if (link !== undefined) {
    if (!UNFINISHED.includes(connection.status) || connection.sealedTokens !== null) {
      throw new FlowRefused(
        `connection "${connection.name}" is no longer waiting for this consent (it is ${connection.status}); nothing was changed. A reconnect link repairs it`,
      );
    }
    return { statuses: UNFINISHED, neverGranted: true };
  }
  return { statuses: [connection.status], neverGranted: false };
}
