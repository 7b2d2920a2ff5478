import type { AuditAnchor, AuditBlockRow, AuditChainRow, AuditStore } from '../store/index.js';
import { anchorOf, type PruneDetail } from './prune.js';
import { blockSearchKeys, genesisHash, hashBlock, hashEvent, rawKeyText } from './chain.js';
import type { StoredEvent } from './types.js';

export interface BrokenLink {
  chainId: string;
  /** Position in the chain where it breaks: the first event of the broken block (or where a missing one would start). */
  seq: number;
  /** The first stored event at that position, if there is one. */
  id: string | null;
  /** The broken block (absent for chains written one row per event, before 0005). */
  block?: number;
  reason: string;
}

export type VerifyResult = { ok: true; events: number } | { ok: false; events: number; broken: BrokenLink };

const PAGE = 200;

class Broken extends Error {
  constructor(readonly link: BrokenLink) {
    super(link.reason);
  }
}

/**
 * How far `audit.prune` events allow each chain to be cut (the furthest
 * event position any of them names), as verify meets them. A prune that
 * stopped half-way leaves its chain anchored short of what its event names:
 * still a prune. The walk checks the anchor's hash against the next block.
 */
function collectAnchors(event: StoredEvent, into: Map<string, number>): void {
  if (event.action !== 'audit.prune') return;
  const anchors = (event.detail as Partial<PruneDetail> | undefined)?.anchors;
  if (!Array.isArray(anchors)) return;
  for (const a of anchors as unknown[]) {
    if (typeof a !== 'object' || a === null) continue;
    const { chainId, seq } = a as Partial<AuditAnchor>;
    if (typeof chainId === 'string' && typeof seq === 'number' && seq > (into.get(chainId) ?? 0)) into.set(chainId, seq);
  }
}

/**
 * Walks every chain from its genesis (or from where a prune left it),
 * recomputing each hash; the first broken link is reported. A chain that
 * starts after a prune may start no further than an intact `audit.prune`
 * event allows: anything beyond is a deletion.
 */
export async function verifyAudit(store: AuditStore): Promise<VerifyResult> {
  const heads = new Map((await store.chains()).map((c) => [c.id, c]));
  const legacy = new Set(await store.chainIdsWithLegacyEvents());
  const ids = [...new Set([...heads.keys(), ...legacy, ...(await store.chainIdsWithBlocks())])].sort();
  const attested = new Map<string, number>();
  let events = 0;
  try {
    for (const chainId of ids) {
      const head = heads.get(chainId);
      const oneRowPerEvent = legacy.has(chainId) || (head !== undefined && head.lastBlock === 0);
      events += oneRowPerEvent ? await verifyLegacyChain(store, chainId, head) : await verifyChain(store, chainId, head, attested);
    }
    for (const chainId of ids) {
      const head = heads.get(chainId);
      const anchor = head === undefined ? undefined : anchorOf(head);
      const allowed = attested.get(chainId) ?? 0;
      if (anchor !== undefined && anchor.seq > allowed) {
        throw new Broken({
          chainId,
          seq: allowed + 1,
          id: null,
          ...(anchor.block === 0 ? {} : { block: anchor.block }),
          reason: `events ${allowed + 1}–${anchor.seq} are gone, and no audit.prune event records pruning them`,
        });
      }
    }
  } catch (err) {
    if (err instanceof Broken) return { ok: false, events, broken: err.link };
    throw err;
  }
  return { ok: true, events };
}

function parseEvents(block: AuditBlockRow): StoredEvent[] {
  try {
    const parsed: unknown = JSON.parse(block.events);
    if (Array.isArray(parsed)) return parsed as StoredEvent[];
  } catch {
    // reported below
  }
  return [];
}

async function verifyChain(store: AuditStore, chainId: string, head: AuditChainRow | undefined, attested: Map<string, number>): Promise<number> {
  // After a prune the chain starts at its anchor; whether a prune put it there is checked at the end.
  const anchor = head === undefined ? undefined : anchorOf(head);
  let prev = anchor?.hash ?? genesisHash(chainId);
  let expectedBlock = (anchor?.block ?? 0) + 1;
  let nextSeq = (anchor?.seq ?? 0) + 1;
  let counted = 0;
  const fail = (block: AuditBlockRow | undefined, reason: string): never => {
    const first = block === undefined ? undefined : parseEvents(block)[0];
    throw new Broken({ chainId, seq: nextSeq, id: typeof first?.id === 'string' ? first.id : null, ...(block === undefined ? {} : { block: block.block }), reason });
  };
  for (;;) {
    const blocks = await store.blockPage(chainId, expectedBlock - 1, PAGE);
    for (const block of blocks) {
      const span = `block ${block.block} (events ${block.firstSeq}–${block.lastSeq})`;
      if (block.block !== expectedBlock) fail(undefined, `block ${expectedBlock} is missing (next stored block is ${block.block})`);
      if (block.prevHash !== prev) fail(block, `the link from ${span} to the block before does not match`);
      if (hashBlock(prev, chainId, block.block, block.events) !== block.hash) fail(block, `${span} was changed after it was written`);
      // The hash covers the events; the columns beside them (used to find and order blocks) must agree with them.
      const events = parseEvents(block);
      let earliest = events[0]?.at;
      let latest = earliest;
      for (const [i, event] of events.entries()) {
        if (typeof event !== 'object' || event === null) fail(block, `${span} holds something that is not an event`);
        if (event.seq !== nextSeq + i || event.id !== `${chainId}.${event.seq}`) fail(block, `${span} does not hold events ${block.firstSeq}–${block.lastSeq} in order`);
        if (earliest === undefined || event.at < earliest) earliest = event.at;
        if (latest === undefined || event.at > latest) latest = event.at;
        collectAnchors(event, attested);
      }
      if (events.length === 0 || block.firstSeq !== nextSeq || block.lastSeq !== nextSeq + events.length - 1) {
        fail(block, `${span} does not hold the events its columns say`);
      }
      if (block.firstAt !== earliest || block.lastAt !== latest) fail(block, `the times recorded beside ${span} do not match its events`);
      // Keys that disagree could hide the block from a filtered listing.
      if (block.searchKeys !== blockSearchKeys(events) && block.searchKeys !== blockSearchKeys(events, rawKeyText)) fail(block, `the search keys recorded beside ${span} do not match its events`);
      prev = block.hash;
      nextSeq += events.length;
      counted += events.length;
      expectedBlock += 1;
    }
    if (blocks.length < PAGE) break;
  }
  if (head === undefined) fail(undefined, 'the chain head record is missing');
  else if (head.lastBlock !== expectedBlock - 1 || head.lastSeq !== nextSeq - 1 || head.lastHash !== prev) {
    fail(undefined, `blocks after ${expectedBlock - 1} are missing (the chain head is at block ${head.lastBlock}, event ${head.lastSeq})`);
  }
  return counted;
}

/** A chain written one row per event (before 0005). */
async function verifyLegacyChain(store: AuditStore, chainId: string, head: AuditChainRow | undefined): Promise<number> {
  const anchor = head === undefined ? undefined : anchorOf(head);
  let prev = anchor?.hash ?? genesisHash(chainId);
  let expected = (anchor?.seq ?? 0) + 1;
  const fail = (seq: number, id: string | null, reason: string): never => {
    throw new Broken({ chainId, seq, id, reason });
  };
  for (;;) {
    const rows = await store.legacyPage(chainId, expected - 1, 1000);
    for (const row of rows) {
      if (row.seq !== expected) fail(expected, row.id, `event ${expected} is missing (next stored event is ${row.seq})`);
      if (row.prevHash !== prev) fail(row.seq, row.id, 'the link to the previous event does not match');
      const { hash, ...rest } = row;
      if (hashEvent(rest) !== hash) fail(row.seq, row.id, 'the event was changed after it was written');
      prev = hash;
      expected += 1;
    }
    if (rows.length < 1000) break;
  }
  if (head === undefined) fail(expected, null, 'the chain head record is missing');
  else if (head.lastSeq !== expected - 1 || head.lastHash !== prev) {
    fail(expected, null, `events after ${expected - 1} are missing (the chain head is at ${head.lastSeq})`);
  }
  return expected - 1 - (anchor?.seq ?? 0);
}
