import { createHash, hash } from 'node:crypto';
import type { AuditEventRow } from '../store/index.js';

/** The link before a chain's first block: bound to the chain id, so blocks cannot move between chains. */
export function genesisHash(chainId: string): string {
  return createHash('sha256').update(`latchkey-audit-genesis:${chainId}`).digest('hex');
}

/**
 * The hash of a block covers the previous block's hash, its place (chain and
 * block number) and the exact JSON text of its events, so editing, adding,
 * removing or reordering any event changes it.
 */
export function hashBlock(prevHash: string, chainId: string, block: number, events: string): string {
  return hash('sha256', `${prevHash}\n${chainId}\n${block}\n${events}`, 'hex');
}

/** The hash of one event as 0004 stored them (one row each): every column and the previous event's hash. */
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
  return hash('sha256', canonical, 'hex');
}
