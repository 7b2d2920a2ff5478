import type { Json } from '../store/index.js';

/** The events webhooks can subscribe to. */
export const EVENT_TYPES = [
  'connection.created',
  'connection.refreshed',
  'connection.refresh_failed',
  'connection.needs_reauth',
  'connection.revoked',
  'connection.expiring',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** What an event says about its connection: names and states, never a token. */
export interface ConnectionEventData {
  id: string;
  name: string;
  provider?: string;
  status?: string;
  lastError?: string | null;
  [extra: string]: Json | undefined;
}

/**
 * Records an event in the outbox; delivery happens later, from the store.
 * Events with the same `dedupeKey` are recorded once, whichever replica emits them first.
 */
export type EmitEvent = (type: EventType, connection: ConnectionEventData, options?: { dedupeKey?: string }) => Promise<void>;
