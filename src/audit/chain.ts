import { createHash, hash } from 'node:crypto';
import type { AuditEventRow } from '../store/index.js';

/** The link before a chain's first event: bound to the chain id, so events cannot move between chains. */
export function genesisHash(chainId: string): string {
  return createHash('sha256').update(`latchkey-audit-genesis:${chainId}`).digest('hex');
}

/** The hash of an event covers every stored column and the previous event's hash. */
export function hashEvent(row: Omit<AuditEventRow, 'hash'> & { hash?: string }): string {
  const canonical = JSON.stringify([
    row.prevHash,
    row.chainId,
    row.seq,
    row.id,
    row.at,
    row.actorType,
    row.actorId,
    row.actorName,
    row.action,
    row.connection,
    row.outcome,
    row.status,
    row.detail,
  ]);
  // One-shot `hash`: the same digest without a Hash object per event (two events per proxied request).
  return hash('sha256', canonical, 'hex');
}
