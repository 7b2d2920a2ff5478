/** Who did it. Agents and operators carry their id and name; the admin token is the one `admin`. */
export interface Actor {
  type: 'admin' | 'operator' | 'agent' | 'anonymous' | 'system';
  id: string | null;
  name: string | null;
}

export type Outcome = 'success' | 'failure' | 'denied';

/** Plain data (JSON), mostly scalars: never a token, a key, a query string or a body. */
export type AuditValue = string | number | boolean | null | AuditValue[] | { [key: string]: AuditValue };
export type AuditDetail = Record<string, AuditValue>;

/** What a caller records. */
export interface AuditInput {
  actor: Actor;
  action: string;
  connection?: string | null;
  outcome: Outcome;
  status?: number | null;
  detail?: AuditDetail;
}

/** An event as the API shows it. */
export interface AuditEvent {
  id: string;
  at: string;
  actor: Actor;
  action: string;
  connection: string | null;
  outcome: string;
  status: number | null;
  detail: AuditDetail;
}

/** An event as a block stores it: the API's shape plus its place in the chain. */
export interface StoredEvent extends AuditEvent {
  seq: number;
}

export const ADMIN_ACTOR: Actor = { type: 'admin', id: null, name: 'admin' };
export const SYSTEM_ACTOR: Actor = { type: 'system', id: null, name: 'latchkey' };
export const ANONYMOUS_ACTOR: Actor = { type: 'anonymous', id: null, name: null };
