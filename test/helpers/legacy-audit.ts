import { genesisHash, hashEvent } from '../../src/audit/index.js';
import type { AuditEventRow } from '../../src/store/index.js';

type EventFields = Omit<AuditEventRow, 'chainId' | 'seq' | 'id' | 'prevHash' | 'hash'>;

/** A chain as the first release wrote it (0004: one row per event, each hash-linked), for seq 1..count. */
export function legacyAuditRows(chainId: string, count: number, fields: (seq: number) => EventFields): { rows: AuditEventRow[]; lastHash: string } {
  let prevHash = genesisHash(chainId);
  const rows: AuditEventRow[] = [];
  for (let seq = 1; seq <= count; seq += 1) {
    const row = { chainId, seq, id: `${chainId}.${seq}`, ...fields(seq), prevHash };
    prevHash = hashEvent(row);
    rows.push({ ...row, hash: prevHash });
  }
  return { rows, lastHash: prevHash };
}
