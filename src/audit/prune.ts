import type { AuditAnchor, AuditChainRow, AuditStore } from '../store/index.js';

export interface PruneResult {
  before: string;
  /** Events removed, over every chain. */
  events: number;
  /** Chains that lost events. */
  chains: number;
}

/** The detail of an `audit.prune` event: every chain's anchor after that prune, which verify checks the stored ones against. */
export interface PruneDetail {
  before: string;
  anchors: AuditAnchor[];
}

export function anchorOf(chain: AuditChainRow): AuditAnchor | undefined {
  if (chain.anchorHash === null || chain.anchorSeq === 0) return undefined;
  return { chainId: chain.id, block: chain.anchorBlock, seq: chain.anchorSeq, hash: chain.anchorHash };
}

/** How far a prune before `before` reaches in one chain: a whole prefix of it, never past the first kept event. */
async function planChain(store: AuditStore, chain: AuditChainRow, before: string): Promise<AuditAnchor | undefined> {
  if (chain.lastBlock === 0) {
    // Written one row per event (before 0005).
    const stop = await store.firstLegacyReaching(chain.id, chain.anchorSeq, before);
    const seq = stop === undefined ? chain.lastSeq : stop.seq - 1;
    if (seq <= chain.anchorSeq) return undefined;
    const last = await store.legacyEvent(chain.id, seq);
    return last === undefined ? undefined : { chainId: chain.id, block: 0, seq, hash: last.hash };
  }
  const stop = await store.firstBlockReaching(chain.id, chain.anchorBlock, before);
  const block = stop === undefined ? chain.lastBlock : stop.block - 1;
  if (block <= chain.anchorBlock) return undefined;
  const last = await store.block(chain.id, block);
  return last === undefined ? undefined : { chainId: chain.id, block, seq: last.lastSeq, hash: last.hash };
}

/**
 * Removes events older than `before`, a whole prefix of each chain at a
 * time, and anchors each chain where its kept part starts. The new anchors
 * (with every unchanged one) are first recorded, durably, in an
 * `audit.prune` event: verify accepts a chain that starts after block 1
 * only at an anchor such an event names, so a deletion is still told from a
 * prune. If the deletion then fails, the previous anchors stay, and so does
 * the event that names them.
 */
export async function pruneAudit(
  deps: { store: AuditStore; record: (detail: PruneDetail) => Promise<void> },
  before: string,
): Promise<PruneResult> {
  const chains = await deps.store.chains();
  const planned = new Map<string, AuditAnchor>();
  for (const chain of chains) {
    const anchor = await planChain(deps.store, chain, before);
    if (anchor !== undefined) planned.set(chain.id, anchor);
  }
  if (planned.size === 0) return { before, events: 0, chains: 0 };
  const anchors = chains.flatMap((c) => planned.get(c.id) ?? anchorOf(c) ?? []);
  await deps.record({ before, anchors });
  let events = 0;
  let pruned = 0;
  for (const chain of chains) {
    const anchor = planned.get(chain.id);
    if (anchor === undefined || !(await deps.store.pruneChain(anchor, chain.lastBlock === 0))) continue;
    events += anchor.seq - chain.anchorSeq;
    pruned += 1;
  }
  return { before, events, chains: pruned };
}
