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

/**
 * Blocks (or one-row events) deleted per transaction: one huge delete would
 * hold SQLite's write lock, and with it every audited request, for as long
 * as it took.
 */
export const PRUNE_STEP = 500;

async function anchorAt(store: AuditStore, chain: AuditChainRow, position: number): Promise<AuditAnchor | undefined> {
  if (chain.lastBlock === 0) {
    const event = await store.legacyEvent(chain.id, position);
    return event === undefined ? undefined : { chainId: chain.id, block: 0, seq: position, hash: event.hash };
  }
  const block = await store.block(chain.id, position);
  return block === undefined ? undefined : { chainId: chain.id, block: position, seq: block.lastSeq, hash: block.hash };
}

/** Moves the chain's anchor to `target` a step at a time; false if another prune got there first. */
async function pruneTo(store: AuditStore, chain: AuditChainRow, target: AuditAnchor, step: number): Promise<boolean> {
  const oneRowPerEvent = chain.lastBlock === 0;
  const goal = oneRowPerEvent ? target.seq : target.block;
  let at = oneRowPerEvent ? chain.anchorSeq : chain.anchorBlock;
  while (at < goal) {
    const next = Math.min(goal, at + step);
    const anchor = next === goal ? target : await anchorAt(store, chain, next);
    if (anchor === undefined || !(await store.pruneChain(anchor, oneRowPerEvent))) return false;
    at = next;
  }
  return true;
}

/** How far a prune before `before` reaches in one chain: a whole prefix of it, never past the first kept event. */
async function planChain(store: AuditStore, chain: AuditChainRow, before: string): Promise<AuditAnchor | undefined> {
  if (chain.lastBlock === 0) {
    // Written one row per event (before 0005).
    const stop = await store.firstLegacyReaching(chain.id, chain.anchorSeq, before);
    const seq = stop === undefined ? chain.lastSeq : stop.seq - 1;
    return seq <= chain.anchorSeq ? undefined : anchorAt(store, chain, seq);
  }
  const stop = await store.firstBlockReaching(chain.id, chain.anchorBlock, before);
  const block = stop === undefined ? chain.lastBlock : stop.block - 1;
  return block <= chain.anchorBlock ? undefined : anchorAt(store, chain, block);
}

/**
 * Removes events older than `before`, a whole prefix of each chain at a
 * time, and anchors each chain where its kept part starts. The new anchors
 * (with every unchanged one) are first recorded, durably, in an
 * `audit.prune` event: verify accepts a chain that starts after block 1
 * only up to an anchor such an event names, so a deletion is still told
 * from a prune. The deletion then goes PRUNE_STEP blocks per transaction;
 * if it stops half-way, the chain is anchored where it stopped, which the
 * event covers too.
 */
export async function pruneAudit(
  deps: { store: AuditStore; record: (detail: PruneDetail) => Promise<void>; step?: number },
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
    if (anchor === undefined || !(await pruneTo(deps.store, chain, anchor, deps.step ?? PRUNE_STEP))) continue;
    events += anchor.seq - chain.anchorSeq;
    pruned += 1;
  }
  return { before, events, chains: pruned };
}
