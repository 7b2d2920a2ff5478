import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import { isUniqueViolation, type Store } from '../store/index.js';
import { isProviderEvent, type ConnectionEventData, type EmitEvent, type EventType, type ProviderEventData } from './types.js';

/** The body a webhook receives: `data.connection` for connection events, `data.provider` for provider events. */
export interface EventBody<Data = { connection: ConnectionEventData }> {
  id: string;
  type: EventType;
  createdAt: string;
  data: Data;
}

type Subject = ConnectionEventData | ProviderEventData;

/**
 * Appends the event and a pending delivery for every webhook subscribed to
 * its type, in one transaction, then nudges the delivery worker. Sending is
 * the worker's job, so an event survives a crash between emit and send.
 */
export function eventOutbox(deps: { store: Store; clock: Clock; logger: Logger; onAppended?: () => void }): EmitEvent {
  const emit = async (type: EventType, subject: Subject, options?: { dedupeKey?: string }): Promise<void> => {
    const createdAt = deps.clock.now().toISOString();
    const id =
      options?.dedupeKey === undefined
        ? newId('evt')
        : `evt_${createHash('sha256').update(`${type}\u0000${options.dedupeKey}`).digest('hex').slice(0, 32)}`;
    const providerEvent = isProviderEvent(type);
    const body: EventBody<{ connection: ConnectionEventData } | { provider: ProviderEventData }> = { id, type, createdAt, data: providerEvent ? { provider: subject as ProviderEventData } : { connection: subject } };
    const hooks = (await deps.store.webhooks.list()).filter((h) => h.events.includes(type) || h.events.includes('*'));
    try {
      await deps.store.events.append(
        { id: body.id, type, connectionId: providerEvent ? null : subject.id, payload: JSON.stringify(body), createdAt },
        hooks.map((h) => h.id),
      );
    } catch (err) {
      // The primary key is the dedupe key: someone recorded this event already.
      if (options?.dedupeKey !== undefined && isUniqueViolation(err)) return;
      throw err;
    }
    deps.logger.debug({ event: type, eventId: body.id, subject: subject.name, webhooks: hooks.length }, 'event recorded');
    if (hooks.length > 0) deps.onAppended?.();
  };
  return emit as EmitEvent;
}

/** An emit that never throws: an event that cannot be stored is logged, not allowed to fail a refresh. */
export function safeEmit(emit: EmitEvent, logger: Logger): EmitEvent {
  const record = emit as (type: EventType, subject: Subject, options?: { dedupeKey?: string }) => Promise<void>;
  const safe = async (type: EventType, subject: Subject, options?: { dedupeKey?: string }): Promise<void> => {
    try {
      await record(type, subject, options);
    } catch (err) {
      logger.error({ event: type, subject: subject.name, err: errorSummary(err) }, 'event could not be recorded');
    }
  };
  return safe as EmitEvent;
}

function errorSummary(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
