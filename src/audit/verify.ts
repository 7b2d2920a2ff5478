import type { AuditAnchor, AuditBlockRow, AuditChainRow, AuditStore } from '../store/index.js';
import { anchorOf, type PruneDetail } from './prune.js';
import { blockSearchKeys, genesisHash, hashBlock, hashEvent, isKeyedHash, macBlock, rawKeyText } from './chain.js';
import type { CheckpointFile } from './checkpoint.js';
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

/**
 * With a chain key (as the server verifies): `unkeyed` counts the chains
 * linked by plain SHA-256 (written before keyed chains, or made up by
 * someone who can write the database), `checkpoints` the checkpoints checked.
 */
interface Counts {
  events: number;
  unkeyed?: number;
  checkpoints?: number;
}

export type VerifyResult = ({ ok: true } & Counts) | ({ ok: false; broken: BrokenLink } & Counts);

export interface VerifyOptions {
  /** The key keyed chains are linked with (chain.ts); a keyed block cannot be checked without it. */
  chainKey?: Buffer;
  /** Checkpoints read from outside the database: each chain must still reach them. */
  checkpoints?: readonly CheckpointFile[];
}

const PAGE = 200;

/** How far `audit.prune` events let each chain be cut: by those in any chain, and by those in keyed chains only. */
interface Attested {
  byAny: Map<string, number>;
  byKeyed: Map<string, number>;
}

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
export async function verifyAudit(store: AuditStore, options: VerifyOptions = {}): Promise<VerifyResult> {
  const heads = new Map((await store.chains()).map((c) => [c.id, c]));
  const legacy = new Set(await store.chainIdsWithLegacyEvents());
  const ids = [...new Set([...heads.keys(), ...legacy, ...(await store.chainIdsWithBlocks())])].sort();
  const attested: Attested = { byAny: new Map(), byKeyed: new Map() };
  const keyedChains = new Set<string>();
  let events = 0;
  let unkeyed = 0;
  let checkpoints = 0;
  const counts = (): Counts => (options.chainKey === undefined ? { events } : { events, unkeyed, checkpoints });
  try {
    for (const chainId of ids) {
      const head = heads.get(chainId);
      const oneRowPerEvent = legacy.has(chainId) || (head !== undefined && head.lastBlock === 0);
      const chain = oneRowPerEvent ? { events: await verifyLegacyChain(store, chainId, head), keyed: false } : await verifyChain(store, chainId, head, attested, options.chainKey);
      events += chain.events;
      if (chain.keyed) keyedChains.add(chainId);
      else unkeyed += 1;
    }
    for (const chainId of ids) {
      const head = heads.get(chainId);
      const anchor = head === undefined ? undefined : anchorOf(head);
      // A keyed chain can only have been pruned by a process that keys its own chain: a prune event in an
      // unkeyed chain (which anyone who can write the database can make up) does not count for it.
      const allowed = (keyedChains.has(chainId) ? attested.byKeyed : attested.byAny).get(chainId) ?? 0;
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
    for (const file of options.checkpoints ?? []) {
      await checkCheckpoint(store, file, heads, new Set(ids));
      checkpoints += 1;
    }
  } catch (err) {
    if (err instanceof Broken) return { ok: false, ...counts(), broken: err.link };
    throw err;
  }
  return { ok: true, ...counts() };
}

/**
 * A checkpoint (signed, kept outside the database) says how far its chain
 * reached: the chain must still exist and hold that block with that hash,
 * unless a prune (attested by an `audit.prune` event, checked above) went
 * past it. The walk has already checked that the chain is intact up to its
 * head, so a chain short of its checkpoint lost its tail, head row and all.
 */
async function checkCheckpoint(store: AuditStore, file: CheckpointFile, heads: Map<string, AuditChainRow>, present: Set<string>): Promise<void> {
  if (!('checkpoint' in file)) throw new Broken({ chainId: file.chainId, seq: 0, id: null, reason: file.problem });
  const cp = file.checkpoint;
  const head = heads.get(cp.chainId);
  if (!present.has(cp.chainId)) {
    throw new Broken({ chainId: cp.chainId, seq: 1, id: null, reason: `the whole chain is gone: ${file.file} (${cp.at}) records events 1–${cp.seq} (block ${cp.block})` });
  }
  const anchor = head === undefined ? undefined : anchorOf(head);
  if (anchor !== undefined && anchor.block > cp.block) return;
  if (anchor !== undefined && anchor.block === cp.block) {
    if (anchor.hash === cp.hash) return;
    throw new Broken({ chainId: cp.chainId, seq: cp.seq, id: null, block: cp.block, reason: `the chain was anchored at block ${cp.block} with a hash other than ${file.file} (${cp.at}) records` });
  }
  const block = await store.block(cp.chainId, cp.block);
  if (block === undefined) {
    const reached = head?.lastSeq ?? 0;
    throw new Broken({
      chainId: cp.chainId,
      seq: reached + 1,
      id: null,
      block: cp.block,
      reason: `events ${reached + 1}–${cp.seq} are gone: ${file.file} (${cp.at}) records the chain at event ${cp.seq} (block ${cp.block}), the database holds it up to event ${reached}`,
    });
  }
  if (block.hash !== cp.hash || block.lastSeq !== cp.seq) {
    throw new Broken({ chainId: cp.chainId, seq: block.firstSeq, id: null, block: cp.block, reason: `block ${cp.block} is not the one ${file.file} (${cp.at}) records` });
  }
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

async function verifyChain(
  store: AuditStore,
  chainId: string,
  head: AuditChainRow | undefined,
  attested: Attested,
  chainKey: Buffer | undefined,
): Promise<{ events: number; keyed: boolean }> {
  // After a prune the chain starts at its anchor; whether a prune put it there is checked at the end.
  const anchor = head === undefined ? undefined : anchorOf(head);
  let prev = anchor?.hash ?? genesisHash(chainId);
  // A chain is keyed from its first block on: one keyed block makes every other one keyed too.
  let keyed = anchor === undefined ? undefined : isKeyedHash(anchor.hash);
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
      const blockKeyed = isKeyedHash(block.hash);
      keyed ??= blockKeyed;
      if (blockKeyed !== keyed) fail(block, `${span} is ${blockKeyed ? '' : 'not '}keyed, unlike the rest of its chain`);
      if (blockKeyed && chainKey === undefined) fail(block, `${span} is keyed, and this check has no key`);
      const expected = blockKeyed ? macBlock(chainKey as Buffer, prev, chainId, block.block, block.events) : hashBlock(prev, chainId, block.block, block.events);
      if (expected !== block.hash) fail(block, `${span} was changed after it was written`);
      // The hash covers the events; the columns beside them (used to find and order blocks) must agree with them.
      const events = parseEvents(block);
      let earliest = events[0]?.at;
      let latest = earliest;
      for (const [i, event] of events.entries()) {
        if (typeof event !== 'object' || event === null) fail(block, `${span} holds something that is not an event`);
        if (event.seq !== nextSeq + i || event.id !== `${chainId}.${event.seq}`) fail(block, `${span} does not hold events ${block.firstSeq}–${block.lastSeq} in order`);
        if (earliest === undefined || event.at < earliest) earliest = event.at;
        if (latest === undefined || event.at > latest) latest = event.at;
        collectAnchors(event, attested.byAny);
        if (blockKeyed) collectAnchors(event, attested.byKeyed);
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
  return { events: counted, keyed: keyed ?? chainKey !== undefined };
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
