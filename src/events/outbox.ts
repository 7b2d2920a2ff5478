import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import { isUniqueViolation, type Store } from '../store/index.js';
import type { ConnectionEventData, EmitEvent, EventType } from './types.js';

/** The body a webhook receives. */
export interface EventBody {
  id: string;
  type: EventType;
  createdAt: string;
  data: { connection: ConnectionEventData };
}

/**
 * Appends the event and a pending delivery for every webhook subscribed to
 * its type, in one transaction, then nudges the delivery worker. Sending is
 * the worker's job, so an event survives a crash between emit and send.
 */
export function eventOutbox(deps: { store: Store; clock: Clock; logger: Logger; onAppended?: () => void }): EmitEvent {
  return async (type, connection, options) => {
    const createdAt = deps.clock.now().toISOString();
    const id =
      options?.dedupeKey === undefined
        ? newId('evt')
        : `evt_${createHash('sha256').update(`${type}\u0000${options.dedupeKey}`).digest('hex').slice(0, 32)}`;
    const body: EventBody = { id, type, createdAt, data: { connection } };
    const hooks = (await deps.store.webhooks.list()).filter((h) => h.events.includes(type) || h.events.includes('*'));
    try {
      await deps.store.events.append(
        { id: body.id, type, connectionId: connection.id, payload: JSON.stringify(body), createdAt },
        hooks.map((h) => h.id),
      );
    } catch (err) {
      // The primary key is the dedupe key: someone recorded this event already.
      if (options?.dedupeKey !== undefined && isUniqueViolation(err)) return;
      throw err;
    }
    deps.logger.debug({ event: type, eventId: body.id, connection: connection.name, webhooks: hooks.length }, 'event recorded');
    if (hooks.length > 0) deps.onAppended?.();
  };
}

/** An emit that never throws: an event that cannot be stored is logged, not allowed to fail a refresh. */
export function safeEmit(emit: EmitEvent, logger: Logger): EmitEvent {
  return async (type, connection, options) => {
    try {
      await emit(type, connection, options);
    } catch (err) {
      logger.error({ event: type, connection: connection.name, err: errorSummary(err) }, 'event could not be recorded');
    }
  };
}

function errorSummary(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
