import type { Json } from '../store/index.js';

/** The events webhooks can subscribe to. */
export const EVENT_TYPES = [
  'connection.created',
  'connection.reauthorized',
  'connection.refreshed',
  'connection.refresh_failed',
  'connection.needs_reauth',
  'connection.revoked',
  'connection.expiring',
  'connection.revocation_failed',
  'provider.misconfigured',
  'audit.checkpoint',
  'proposal.created',
  'proposal.decided',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Events about a provider rather than one connection: their body carries `data.provider`. */
export type ProviderEventType = Extract<EventType, `provider.${string}`>;
/** Events about the audit log: their body carries `data.checkpoint`. */
export type AuditEventType = Extract<EventType, `audit.${string}`>;
/** Events about an access proposal: their body carries `data.proposal`. */
export type ProposalEventType = Extract<EventType, `proposal.${string}`>;
export type ConnectionEventType = Exclude<EventType, ProviderEventType | AuditEventType | ProposalEventType>;

export function isProviderEvent(type: EventType): type is ProviderEventType {
  return type.startsWith('provider.');
}

export function isProposalEvent(type: EventType): type is ProposalEventType {
  return type.startsWith('proposal.');
}

export function isAuditEvent(type: EventType): type is AuditEventType {
  return type.startsWith('audit.');
}

/**
 * A signed audit checkpoint (see src/audit/checkpoint.ts): a receiver keeps
 * it as evidence of how far a chain reached, outside the database.
 */
export interface CheckpointEventData {
  chainId: string;
  block: number;
  seq: number;
  hash: string;
  at: string;
  mac: string;
  [extra: string]: Json | undefined;
}

/** What an event says about its provider: names, states and reasons, never a secret. */
export interface ProviderEventData {
  id: string;
  name: string;
  status: string;
  [extra: string]: Json | undefined;
}

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
 * What an event says about an access proposal: the agent, the request, the
 * agent's reason (untrusted text, sent as data) and, once decided, the
 * decision. Never a key or a token.
 */
export interface ProposalEventData {
  id: string;
  agent: { id: string; name: string };
  status: string;
  [extra: string]: Json | undefined;
}

/**
 * Records an event in the outbox; delivery happens later, from the store.
 * Events with the same `dedupeKey` are recorded once, whichever replica emits them first.
 */
export interface EmitEvent {
  (type: ConnectionEventType, connection: ConnectionEventData, options?: { dedupeKey?: string }): Promise<void>;
  (type: ProviderEventType, provider: ProviderEventData, options?: { dedupeKey?: string }): Promise<void>;
  (type: AuditEventType, checkpoint: CheckpointEventData, options?: { dedupeKey?: string }): Promise<void>;
  (type: ProposalEventType, proposal: ProposalEventData, options?: { dedupeKey?: string }): Promise<void>;
}
