import type { Clock } from '../clock.js';
import { InvalidRequest } from '../errors.js';
import type { Logger } from '../log.js';
import type { AuditEventRow, AuditStore } from '../store/index.js';
import { ADMIN_ACTOR, type AuditDetail, type AuditEvent, type AuditInput } from './types.js';
import { verifyAudit, type VerifyResult } from './verify.js';
import { AuditWriter } from './writer.js';

export interface AuditQuery {
  /** agent id or name */
  agent?: string;
  connection?: string;
  action?: string;
  /** ISO time */
  since?: string;
  limit?: number;
}

function toEvent(r: AuditEventRow): AuditEvent {
  return {
    id: r.id,
    at: r.at,
    actor: { type: r.actorType as AuditEvent['actor']['type'], id: r.actorId, name: r.actorName },
    action: r.action,
    connection: r.connection,
    outcome: r.outcome,
    status: r.status,
    detail: JSON.parse(r.detail) as AuditDetail,
  };
}

/** The audit log: append (fail-closed), list, verify. */
export function auditLog(deps: { store: AuditStore; clock: Clock; logger: Logger }) {
  const writer = new AuditWriter(deps);

  /** Throws AuditUnavailable when the event cannot be written: the caller must then refuse what it records. */
  function record(input: AuditInput): Promise<void> {
    return writer.append(input);
  }

  /** For admin routes: `await core.audit.admin('provider.create', { detail: { provider: name } })`. */
  function admin(action: string, fields: Omit<AuditInput, 'actor' | 'action' | 'outcome'> & { outcome?: AuditInput['outcome'] } = {}): Promise<void> {
    return writer.append({ actor: ADMIN_ACTOR, action, outcome: fields.outcome ?? 'success', ...fields });
  }

  async function list(query: AuditQuery = {}): Promise<AuditEvent[]> {
    let since: string | undefined;
    if (query.since !== undefined) {
      const at = new Date(query.since);
      if (Number.isNaN(at.getTime())) throw new InvalidRequest('since must be an ISO 8601 time');
      since = at.toISOString();
    }
    const rows = await deps.store.list({
      ...(query.agent === undefined ? {} : { actorId: query.agent, actorName: query.agent }),
      ...(query.connection === undefined ? {} : { connection: query.connection }),
      ...(query.action === undefined ? {} : { action: query.action }),
      ...(since === undefined ? {} : { since }),
      limit: Math.min(Math.max(query.limit ?? 100, 1), 1000),
    });
    return rows.map(toEvent);
  }

  return {
    record,
    admin,
    list,
    verify: (): Promise<VerifyResult> => verifyAudit(deps.store),
    flush: (): Promise<void> => writer.flush(),
    chainId: writer.chainId,
  };
}

export type AuditLog = ReturnType<typeof auditLog>;
