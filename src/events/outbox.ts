import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import { isUniqueViolation, type Store } from '../store/index.js';
import {
  isAuditEvent,
  isProposalEvent,
  isProviderEvent,
  type CheckpointEventData,
  type ConnectionEventData,
  type EmitEvent,
  type EventType,
  type ProposalEventData,
  type ProviderEventData,
} from './types.js';

/** The body a webhook receives: `data.connection` for connection events, `data.provider` for provider events. */
export interface EventBody<Data = { connection: ConnectionEventData }> {
  id: string;
  type: EventType;
  createdAt: string;
  data: Data;
}

type Subject = ConnectionEventData | ProviderEventData | CheckpointEventData | ProposalEventData;
type EventData =
  | { connection: ConnectionEventData }
  | { provider: ProviderEventData }
  | { checkpoint: CheckpointEventData }
  | { proposal: ProposalEventData };

/** The body's `data` for an event's kind, and the connection it is about (if it is about one). */
function dataOf(type: EventType, subject: Subject): { data: EventData; connectionId: string | null; label: string } {
  if (isProviderEvent(type)) return { data: { provider: subject as ProviderEventData }, connectionId: null, label: (subject as ProviderEventData).name };
  if (isProposalEvent(type)) return { data: { proposal: subject as ProposalEventData }, connectionId: null, label: (subject as ProposalEventData).id };
  if (isAuditEvent(type)) return { data: { checkpoint: subject as CheckpointEventData }, connectionId: null, label: (subject as CheckpointEventData).chainId };
  const connection = subject as ConnectionEventData;
  return { data: { connection }, connectionId: connection.id, label: connection.name };
}

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
    const { data, connectionId, label } = dataOf(type, subject);
    const body: EventBody<EventData> = { id, type, createdAt, data };
    const hooks = (await deps.store.webhooks.list()).filter((h) => h.events.includes(type) || h.events.includes('*'));
    try {
      await deps.store.events.append(
        { id: body.id, type, connectionId, payload: JSON.stringify(body), createdAt },
        hooks.map((h) => h.id),
      );
    } catch (err) {
      // The primary key is the dedupe key: someone recorded this event already.
      if (options?.dedupeKey !== undefined && isUniqueViolation(err)) return;
      throw err;
    }
    deps.logger.debug({ event: type, eventId: body.id, subject: label, webhooks: hooks.length }, 'event recorded');
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
      logger.error({ event: type, subject: 'chainId' in subject ? subject.chainId : subject.id, err: errorSummary(err) }, 'event could not be recorded');
    }
  };
  return safe as EmitEvent;
}

function errorSummary(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
