import type { AuditStore } from '../store/index.js';
import { genesisHash, hashEvent } from './chain.js';

export interface BrokenLink {
  chainId: string;
  /** Position in the chain where the chain breaks (for a deleted event, the position it held). */
  seq: number;
  /** The stored event at that position, if there is one. */
  id: string | null;
  reason: string;
}

export type VerifyResult = { ok: true; events: number } | { ok: false; events: number; broken: BrokenLink };

const PAGE = 1000;

/** Walks every chain from its genesis, recomputing each hash; the first broken link is reported. */
export async function verifyAudit(store: AuditStore): Promise<VerifyResult> {
  const heads = new Map((await store.chains()).map((c) => [c.id, c]));
  const ids = [...new Set([...heads.keys(), ...(await store.chainIdsWithEvents())])].sort();
  let events = 0;
  for (const chainId of ids) {
    let prev = genesisHash(chainId);
    let expected = 1;
    for (;;) {
      const rows = await store.page(chainId, expected - 1, PAGE);
      for (const row of rows) {
        if (row.seq !== expected) {
          return broken(events, chainId, expected, row.id, `event ${expected} is missing (next stored event is ${row.seq})`);
        }
        if (row.prevHash !== prev) return broken(events, chainId, row.seq, row.id, 'the link to the previous event does not match');
        const { hash, ...rest } = row;
        if (hashEvent(rest) !== hash) return broken(events, chainId, row.seq, row.id, 'the event was changed after it was written');
        prev = hash;
        expected += 1;
        events += 1;
      }
      if (rows.length < PAGE) break;
    }
    const head = heads.get(chainId);
    if (head === undefined) return broken(events, chainId, expected, null, 'the chain head record is missing');
    if (head.lastSeq !== expected - 1 || head.lastHash !== prev) {
      return broken(events, chainId, expected, null, `events after ${expected - 1} are missing (the chain head is at ${head.lastSeq})`);
    }
  }
  return { ok: true, events };
}

function broken(events: number, chainId: string, seq: number, id: string | null, reason: string): VerifyResult {
  return { ok: false, events, broken: { chainId, seq, id, reason } };
}
