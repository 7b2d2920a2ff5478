import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import {
  auditLog,
  hashBlock,
  pruneAudit,
  searchKey,
  type AuditLog,
  type PruneDetail,
  type StoredEvent,
} from '../src/audit/index.js';
import { ManualClock, systemClock } from '../src/clock.js';
import { createLogger } from '../src/log.js';
import { openMigratedStore, type AuditBlockRow, type Store } from '../src/store/index.js';
import { createAgent, importTokens, json, rawRequest, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { legacyAuditRows } from './helpers/legacy-audit.js';
import { BACKENDS } from './helpers/oauth-flows.js';

const silent = createLogger('silent');

async function addEvents(log: AuditLog, n: number, tag: string): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      log.record({ actor: { type: 'agent', id: 'agt_x', name: 'x' }, action: 'proxy.request', connection: 'c', outcome: 'success', status: 200, detail: { i, tag } }),
    ),
  );
}

/** Disables inserts into audit_blocks the way a broken or full audit device would. */
async function breakAuditTable(store: Store): Promise<void> {
  if (store.db.dialect === 'sqlite') {
    await sql`create trigger audit_off before insert on audit_blocks begin select raise(abort, 'audit device unavailable'); end`.execute(store.db.kysely);
  } else {
    await sql`create or replace function audit_off() returns trigger language plpgsql as $$ begin raise exception 'audit device unavailable'; end $$`.execute(store.db.kysely);
    await sql`create trigger audit_off before insert on audit_blocks for each row execute function audit_off()`.execute(store.db.kysely);
  }
}

async function repairAuditTable(store: Store): Promise<void> {
  await sql`drop trigger audit_off${store.db.dialect === 'postgres' ? sql` on audit_blocks` : sql``}`.execute(store.db.kysely);
}

/** The stored block holding event `seq` of a chain. */
async function blockHolding(store: Store, chainId: string, seq: number): Promise<AuditBlockRow> {
  const block = (await store.audit.blockPage(chainId, 0, 1000)).find((b) => b.firstSeq <= seq && seq <= b.lastSeq);
  assert.ok(block, `no block holds event ${seq}`);
  return block;
}

async function setBlockEvents(store: Store, block: AuditBlockRow, events: string, hash = block.hash): Promise<void> {
  await sql`update audit_blocks set events = ${events}, hash = ${hash} where chain_id = ${block.chainId} and block = ${block.block}`.execute(store.db.kysely);
}

/** Event `seq` of a block's JSON replaced by `edit(event)`, as text. */
function editedEvents(block: AuditBlockRow, seq: number, edit: (e: StoredEvent) => StoredEvent | undefined): string {
  const events = (JSON.parse(block.events) as StoredEvent[]).flatMap((e) => (e.seq === seq ? (edit(e) ?? []) : [e]));
  return JSON.stringify(events);
}

for (const backend of BACKENDS) {
  describe(`audit hash chain (${backend.name})`, { skip: backend.skip }, () => {
    let store: Store;
    let drop: () => Promise<void> = async () => {};
    let log: AuditLog;
    let batches = 0;

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      store = await openMigratedStore({ dataDir: mkdtempSync(join(tmpdir(), 'latchkey-audit-')), databaseUrl: db.databaseUrl });
      const counted = { ...store.audit, appendBlock: (...args: Parameters<Store['audit']['appendBlock']>) => ((batches += 1), store.audit.appendBlock(...args)) };
      log = auditLog({ store: counted, clock: systemClock, logger: silent });
    });

    after(async () => {
      await store?.close();
      await drop();
    });

    test('concurrent events are written in a few group commits (one block each) and verify', async () => {
      await addEvents(log, 200, 'a');
      assert.ok(batches <= 3, `200 concurrent events took ${batches} transactions`);
      const blocks = await store.audit.blockPage(log.chainId, 0, 1000);
      assert.equal(blocks.length, batches, 'one row per group commit');
      assert.equal(blocks.at(-1)?.lastSeq, 200);
      // A second writer (another process or replica) keeps its own chain.
      const other = auditLog({ store: store.audit, clock: systemClock, logger: silent });
      await Promise.all([addEvents(log, 20, 'b'), addEvents(other, 20, 'c')]);
      assert.notEqual(other.chainId, log.chainId);
      assert.deepEqual(await log.verify(), { ok: true, events: 240 });
    });

    test('an edited event fails verification at the block holding it, even with the hash recomputed', async () => {
      const block = await blockHolding(store, log.chainId, 10);
      await setBlockEvents(store, block, editedEvents(block, 10, (e) => ({ ...e, detail: { i: 999 } })));
      const edited = await log.verify();
      assert.ok(!edited.ok && edited.broken.block === block.block && edited.broken.seq === block.firstSeq, JSON.stringify(edited));
      assert.equal(!edited.ok && edited.broken.id, `${log.chainId}.${block.firstSeq}`);
      assert.match(!edited.ok ? edited.broken.reason : '', /changed after it was written/);
      await setBlockEvents(store, block, block.events);
      assert.equal((await log.verify()).ok, true);

      // Rewriting the hash as well only moves the break to the next link.
      const forged = editedEvents(block, 10, (e) => ({ ...e, status: 201 }));
      await setBlockEvents(store, block, forged, hashBlock(block.prevHash, block.chainId, block.block, forged));
      const rehashed = await log.verify();
      assert.ok(!rehashed.ok && rehashed.broken.seq === block.lastSeq + 1 && rehashed.broken.block === block.block + 1, JSON.stringify(rehashed));
      await setBlockEvents(store, block, block.events);

      // So does moving an event's time outside what the block says (which listing by time relies on).
      await sql`update audit_blocks set last_at = ${'1999-01-01T00:00:00.000Z'} where chain_id = ${block.chainId} and block = ${block.block}`.execute(store.db.kysely);
      const moved = await log.verify();
      assert.ok(!moved.ok && moved.broken.block === block.block, JSON.stringify(moved));
      await sql`update audit_blocks set last_at = ${block.lastAt} where chain_id = ${block.chainId} and block = ${block.block}`.execute(store.db.kysely);
      assert.equal((await log.verify()).ok, true);
    });

    test('a deleted event, a deleted block and a deleted newest block all fail verification where they were', async () => {
      const block = await blockHolding(store, log.chainId, 20);
      await setBlockEvents(store, block, editedEvents(block, 20, () => undefined));
      const removed = await log.verify();
      assert.ok(!removed.ok && removed.broken.block === block.block && removed.broken.chainId === log.chainId, JSON.stringify(removed));
      await setBlockEvents(store, block, block.events);

      await sql`delete from audit_blocks where chain_id = ${block.chainId} and block = ${block.block}`.execute(store.db.kysely);
      const deleted = await log.verify();
      assert.ok(!deleted.ok && deleted.broken.seq === block.firstSeq && /block \d+ is missing/.test(deleted.broken.reason), JSON.stringify(deleted));
      await store.db.kysely.insertInto('auditBlocks').values(block).execute();
      assert.equal((await log.verify()).ok, true);

      const newest = await blockHolding(store, log.chainId, 220);
      assert.equal(newest.lastSeq, 220);
      await sql`delete from audit_blocks where chain_id = ${newest.chainId} and block = ${newest.block}`.execute(store.db.kysely);
      const truncated = await log.verify();
      assert.ok(!truncated.ok && truncated.broken.seq === newest.firstSeq && /chain head/.test(truncated.broken.reason), JSON.stringify(truncated));
      await store.db.kysely.insertInto('auditBlocks').values(newest).execute();
      assert.equal((await log.verify()).ok, true);
    });

    test('a chain written one row per event (before 0005) is still listed and verified', async () => {
      const chainId = 'chn_legacy0000000000000000';
      const { rows, lastHash: prevHash } = legacyAuditRows(chainId, 3, (seq) => ({
        at: `2020-01-01T00:00:0${seq}.000Z`,
        actorType: 'agent',
        actorId: 'agt_old',
        actorName: 'old-bot',
        action: 'proxy.request',
        connection: 'legacy-conn',
        outcome: 'success',
        status: 200,
        detail: JSON.stringify({ seq }),
      }));
      await store.db.kysely.insertInto('auditEvents').values(rows).execute();
      await store.db.kysely.insertInto('auditChains').values({ id: chainId, startedAt: '2020-01-01T00:00:00.000Z', lastSeq: 3, lastHash: prevHash, lastBlock: 0, anchorBlock: 0, anchorSeq: 0 }).execute();
      const before = await log.verify();
      assert.ok(before.ok, JSON.stringify(before));

      const listed = await log.list({ connection: 'legacy-conn' });
      assert.deepEqual(listed.map((e) => e.id), [`${chainId}.3`, `${chainId}.2`, `${chainId}.1`]);
      assert.deepEqual(listed[0]?.detail, { seq: 3 });
      // Merged with block events, newest first, under one limit.
      const newest = await log.list({ limit: 3 });
      assert.ok(newest.every((e) => e.at > '2021'), JSON.stringify(newest));
      const everything = await log.list({ limit: 1000 });
      assert.equal(everything.length, before.events);
      assert.deepEqual(everything.slice(-3).map((e) => e.id), [`${chainId}.3`, `${chainId}.2`, `${chainId}.1`]);

      await sql`update audit_events set status = 500 where id = ${`${chainId}.2`}`.execute(store.db.kysely);
      const edited = await log.verify();
      assert.ok(!edited.ok && edited.broken.id === `${chainId}.2` && edited.broken.block === undefined, JSON.stringify(edited));
      await sql`update audit_events set status = 200 where id = ${`${chainId}.2`}`.execute(store.db.kysely);

      // Pruned like any chain, one row per event.
      const pruned = await log.prune('2020-01-01T00:00:02.500Z');
      assert.deepEqual([pruned.events, pruned.chains], [2, 1]);
      assert.deepEqual((await log.list({ connection: 'legacy-conn' })).map((e) => e.id), [`${chainId}.3`]);
      const afterPrune = await log.verify();
      assert.ok(afterPrune.ok, JSON.stringify(afterPrune));
      await sql`delete from audit_events where id = ${`${chainId}.3`}`.execute(store.db.kysely);
      await sql`update audit_chains set anchor_seq = 3, anchor_hash = ${prevHash} where id = ${chainId}`.execute(store.db.kysely);
      const forgedLegacy = await log.verify();
      assert.ok(!forgedLegacy.ok && forgedLegacy.broken.chainId === chainId && forgedLegacy.broken.block === undefined, JSON.stringify(forgedLegacy));
      // Out of the way of the counts below.
      await sql`delete from audit_events where chain_id = ${chainId}`.execute(store.db.kysely);
      await sql`delete from audit_chains where id = ${chainId}`.execute(store.db.kysely);
    });

    test('listing filters by agent, connection, action and time, newest first across chains', async () => {
      // Two events in the same millisecond would be ordered by chain id, which is random.
      const clock = new ManualClock(Date.now());
      const mine = auditLog({ store: store.audit, clock, logger: silent });
      const other = auditLog({ store: store.audit, clock, logger: silent });
      await mine.record({ actor: { type: 'agent', id: 'agt_f1', name: 'filter-bot' }, action: 'invoke', connection: 'f-conn', outcome: 'success' });
      clock.advance(1);
      await other.record({ actor: { type: 'agent', id: 'agt_f1', name: 'filter-bot' }, action: 'lease.create', connection: 'f-conn', outcome: 'success' });
      const byName = await log.list({ agent: 'filter-bot' });
      assert.deepEqual(byName.map((e) => e.action), ['lease.create', 'invoke']);
      assert.deepEqual((await log.list({ agent: 'agt_f1', action: 'invoke' })).map((e) => e.connection), ['f-conn']);
      const since = byName[0]?.at ?? '';
      assert.ok((await log.list({ since, connection: 'f-conn' })).every((e) => e.at >= since));
      assert.equal((await log.list({ since: '2999-01-01T00:00:00Z' })).length, 0);
      const page = await log.list({ limit: 5 });
      assert.equal(page.length, 5);
      assert.deepEqual([...page].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).map((e) => e.at), page.map((e) => e.at));
      // LIKE wildcards are plain characters in a filter.
      assert.equal((await log.list({ connection: '%' })).length, 0);
      assert.equal((await log.list({ agent: '_' })).length, 0);

      // A rare agent's event under many newer blocks is found, and the database hands over only its block.
      await mine.record({ actor: { type: 'agent', id: 'agt_rare', name: 'rare-bot' }, action: 'invoke', connection: 'rare-conn', outcome: 'success' });
      for (let i = 0; i < 150; i += 1) {
        await mine.record({ actor: { type: 'agent', id: 'agt_busy', name: 'busy-bot' }, action: 'proxy.request', connection: 'busy-conn', outcome: 'success' });
      }
      assert.deepEqual((await log.list({ agent: 'rare-bot' })).map((e) => [e.actor.id, e.connection]), [['agt_rare', 'rare-conn']]);
      assert.deepEqual((await log.list({ connection: 'rare-conn', action: 'invoke' })).map((e) => e.actor.name), ['rare-bot']);
      assert.equal((await log.list({ agent: 'rare-bot', action: 'proxy.request' })).length, 0);
      const candidates = await store.audit.recentBlocks({ keys: [searchKey('a', 'agt_rare')], offset: 0, limit: 100 });
      assert.equal(candidates.length, 1);
      // Events of one chain in the same millisecond come newest first by position, as a number.
      const sameInstant = (await log.list({ agent: 'busy-bot', limit: 60 })).map((e) => Number(e.id.slice(e.id.lastIndexOf('.') + 1)));
      assert.deepEqual(sameInstant, [...sameInstant].sort((a, b) => b - a));
      assert.ok(sameInstant.some((seq) => seq >= 100) && sameInstant.some((seq) => seq < 100), JSON.stringify(sameInstant));

      // The search keys are derived from the events, and verify checks that they still are:
      // blanking them would hide the block from filtered listings.
      const [rare] = candidates as [AuditBlockRow];
      await sql`update audit_blocks set search_keys = ${'\n'} where chain_id = ${rare.chainId} and block = ${rare.block}`.execute(store.db.kysely);
      const hidden = await mine.verify();
      assert.ok(!hidden.ok && hidden.broken.block === rare.block && /search keys/.test(hidden.broken.reason), JSON.stringify(hidden));
      await sql`update audit_blocks set search_keys = ${rare.searchKeys} where chain_id = ${rare.chainId} and block = ${rare.block}`.execute(store.db.kysely);
      assert.equal((await mine.verify()).ok, true);

      // Whole chains out of the way of the counts below.
      for (const chainId of [mine.chainId, other.chainId]) {
        await sql`delete from audit_blocks where chain_id = ${chainId}`.execute(store.db.kysely);
        await sql`delete from audit_chains where id = ${chainId}`.execute(store.db.kysely);
      }
    });

    test('pruning removes a prefix of each chain; verify checks the rest and tells a prune from a deletion', async () => {
      const clock = new ManualClock(Date.parse('2025-01-01T00:00:00.000Z'));
      const old = auditLog({ store: store.audit, clock, logger: silent });
      const event = { actor: { type: 'agent', id: 'agt_old', name: 'aged-bot' }, action: 'invoke', connection: 'aged', outcome: 'success' } as const;
      for (let i = 0; i < 5; i += 1) await old.record(event);
      clock.set(Date.parse('2026-03-01T00:00:00.000Z'));
      for (let i = 0; i < 3; i += 1) await old.record(event);
      const before = await old.verify();
      assert.ok(before.ok, JSON.stringify(before));

      await assert.rejects(old.prune('2027-01-01T00:00:00Z'), /must not be in the future/);
      await assert.rejects(old.prune('last tuesday'), /ISO 8601/);
      const first = await old.prune('2026-01-01T00:00:00Z');
      assert.deepEqual(first, { before: '2026-01-01T00:00:00.000Z', events: 5, chains: 1 });
      assert.equal((await old.list({ agent: 'aged-bot' })).length, 3);
      const prunesOf = async (log: AuditLog) => (await log.list({ action: 'audit.prune' })).filter((e) => e.id.startsWith(`${log.chainId}.`));
      const [recorded] = await prunesOf(old);
      const anchors = recorded?.detail.anchors as Array<{ chainId: string; block: number; seq: number }>;
      assert.deepEqual(anchors.map((a) => [a.chainId, a.block, a.seq]), [[old.chainId, 5, 5]]);
      const afterFirst = await old.verify();
      // The five pruned events are gone; the prune's own event was added.
      assert.deepEqual(afterFirst, { ok: true, events: before.events - 5 + 1 });
      assert.deepEqual(await old.prune('2026-01-01T00:00:00Z'), { before: '2026-01-01T00:00:00.000Z', events: 0, chains: 0 });

      // A later prune takes the first prune's event with it: its own event names the anchors now.
      clock.set(Date.parse('2026-06-01T00:00:00.000Z'));
      await old.record(event);
      const second = await old.prune('2026-04-01T00:00:00Z');
      assert.equal(second.events, 4);
      assert.equal((await prunesOf(old)).length, 1);
      assert.equal((await old.verify()).ok, true);

      // A prune that planned less than one that got there first leaves the anchor where it is.
      const [current] = (await store.audit.chains()).filter((c) => c.id === old.chainId);
      assert.ok(current && current.anchorBlock > 1);
      const earlier = await store.audit.block(old.chainId, 1);
      assert.equal(earlier, undefined, 'block 1 is gone');
      assert.equal(await store.audit.pruneChain({ chainId: old.chainId, block: 1, seq: 1, hash: 'x' }, false), false);
      assert.equal((await store.audit.chains()).find((c) => c.id === old.chainId)?.anchorBlock, current.anchorBlock);

      // A big prune goes a step at a time; one that stops half-way leaves a chain that still verifies.
      clock.set(Date.parse('2026-07-01T00:00:00.000Z'));
      for (let i = 0; i < 6; i += 1) await old.record(event);
      clock.set(Date.parse('2026-09-01T00:00:00.000Z'));
      await old.record(event);
      let steps = 0;
      const failingThird: typeof store.audit = {
        ...store.audit,
        pruneChain: async (...args) => {
          steps += 1;
          if (steps === 3) throw new Error('connection lost');
          return store.audit.pruneChain(...args);
        },
      };
      const record = async (detail: PruneDetail): Promise<void> => old.admin('audit.prune', { detail: { before: detail.before, anchors: detail.anchors.map((a) => ({ ...a })) } });
      await assert.rejects(pruneAudit({ store: failingThird, record, step: 2 }, '2026-08-01T00:00:00.000Z'), /connection lost/);
      const halfWay = (await store.audit.chains()).find((c) => c.id === old.chainId);
      assert.equal(halfWay?.anchorBlock, current.anchorBlock + 4, 'two steps of two blocks went');
      assert.equal((await old.verify()).ok, true);
      const rest = await pruneAudit({ store: store.audit, record, step: 2 }, '2026-08-01T00:00:00.000Z');
      assert.equal(rest.chains, 1);
      assert.equal((await old.verify()).ok, true);

      // Deleting the next block and moving the anchor to it, real hash and all, is not a prune.
      const [head] = (await store.audit.chains()).filter((c) => c.id === old.chainId);
      assert.ok(head);
      const next = await store.audit.block(old.chainId, head.anchorBlock + 1);
      assert.ok(next);
      await sql`delete from audit_blocks where chain_id = ${next.chainId} and block = ${next.block}`.execute(store.db.kysely);
      await sql`update audit_chains set anchor_block = ${next.block}, anchor_seq = ${next.lastSeq}, anchor_hash = ${next.hash} where id = ${next.chainId}`.execute(store.db.kysely);
      const forged = await old.verify();
      assert.ok(!forged.ok && forged.broken.chainId === old.chainId && /no audit\.prune event/.test(forged.broken.reason), JSON.stringify(forged));
      await store.db.kysely.insertInto('auditBlocks').values(next).execute();
      await sql`update audit_chains set anchor_block = ${head.anchorBlock}, anchor_seq = ${head.anchorSeq}, anchor_hash = ${head.anchorHash} where id = ${head.id}`.execute(store.db.kysely);
      assert.equal((await old.verify()).ok, true);

      // Out of the way of the counts in other tests.
      await sql`delete from audit_blocks where chain_id = ${old.chainId}`.execute(store.db.kysely);
      await sql`delete from audit_chains where id = ${old.chainId}`.execute(store.db.kysely);
    });

    test('an event recorded while another transaction is open is not rolled back with it', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const mine = auditLog({ store: store.audit, clock: systemClock, logger: silent });
      const rolledBack = store.transaction(async (tx) => {
        await tx.agents.insert({ id: 'agt_rollback', name: 'rollback', environment: 'default', policy: {}, createdAt: 'x', updatedAt: 'x' });
        await held;
        throw new Error('roll back');
      });
      const recorded = mine.record({ actor: { type: 'admin', id: null, name: 'admin' }, action: 'test.during_tx', outcome: 'success' });
      // Let the audit block be written (or queue for the connection) while the transaction is open.
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await assert.rejects(rolledBack, /roll back/);
      await recorded;
      assert.equal(await store.agents.findById('agt_rollback'), undefined);
      assert.deepEqual((await mine.list({ action: 'test.during_tx' })).length, 1);
      for (const chainId of [mine.chainId]) {
        await sql`delete from audit_blocks where chain_id = ${chainId}`.execute(store.db.kysely);
        await sql`delete from audit_chains where id = ${chainId}`.execute(store.db.kysely);
      }
    });

    test('when the table cannot be written the events are refused, and the chain continues afterwards', async () => {
      await breakAuditTable(store);
      // Every one settles before the table is repaired: the writer retries a refused block in pieces.
      const lost = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => addEvents(log, 1, `lost-${i}`)));
      assert.ok(lost.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'audit_unavailable'), JSON.stringify(lost));
      await repairAuditTable(store);
      await addEvents(log, 5, 'd');
      // 240 from the first test, the legacy chain's audit.prune, and these 5.
      assert.deepEqual(await log.verify(), { ok: true, events: 246 });
    });
  });

  describe(`audit through the server (${backend.name})`, { skip: backend.skip }, () => {
    let lk: InProcess;
    let api: FakeApi;
    let agentKey: string;
    let drop: () => Promise<void> = async () => {};

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      lk = await startInProcess(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {});
      api = await startFakeApi();
      const p = await lk.admin('POST', '/v1/providers', { name: 'api', tokenEndpoint: `${api.url}/token`, apiBaseUrl: api.url });
      assert.equal(p.status, 201);
      await importTokens(lk, { name: 'api', provider: 'api', accessToken: 'audit-provider-token-0123456789' });
      agentKey = (await createAgent(lk, { name: 'audited', policy: { rules: [{ connections: ['api'] }] } })).apiKey;
    });

    after(async () => {
      await lk?.close();
      await api?.close();
      await drop();
    });

    test('with the audit table unwritable a proxy request fails with 503 and nothing goes upstream', async () => {
      const ok = await rawRequest(lk.url, { path: '/v1/proxy/api/x', headers: { authorization: `Bearer ${agentKey}` } });
      assert.equal(ok.status, 200);
      const seen = api.seen.length;
      await breakAuditTable(lk.core.store);
      try {
        const res = await rawRequest(lk.url, { path: '/v1/proxy/api/x', headers: { authorization: `Bearer ${agentKey}` } });
        assert.equal(res.status, 503, res.body);
        assert.equal(json(res.body).error, 'audit_unavailable');
        assert.equal(api.seen.length, seen, 'no upstream call');
        const agent = await lk.admin('POST', '/v1/agents', { name: 'unaudited' });
        assert.equal(agent.status, 503, 'admin changes fail too when they cannot be audited');
        assert.equal(json(JSON.stringify(agent.body)).error, 'audit_unavailable');
        const provider = await lk.admin('POST', '/v1/providers', { name: 'unaudited', preset: 'github' });
        assert.equal(provider.status, 503);
      } finally {
        await repairAuditTable(lk.core.store);
      }
      // Refused before the handler ran: nothing was changed without a record.
      assert.equal((await lk.admin('GET', '/v1/agents/unaudited')).status, 404);
      assert.equal((await lk.admin('GET', '/v1/providers/unaudited')).status, 404);
      const again = await rawRequest(lk.url, { path: '/v1/proxy/api/x', headers: { authorization: `Bearer ${agentKey}` } });
      assert.equal(again.status, 200);
    });

    test('GET /v1/audit/verify and `latchkey audit verify` detect an edited event', async () => {
      const intact = await lk.admin('GET', '/v1/audit/verify');
      assert.equal((intact.body as { ok: boolean }).ok, true, JSON.stringify(intact.body));
      const env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
      const good = await runCli(['audit', 'verify'], env);
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stdout, /intact/);

      const [event] = (await lk.admin('GET', '/v1/audit?action=proxy.request&limit=1')).body as Array<{ id: string }>;
      assert.ok(event);
      const [chainId, seq] = [event.id.slice(0, event.id.lastIndexOf('.')), Number(event.id.slice(event.id.lastIndexOf('.') + 1))];
      const block = await blockHolding(lk.core.store, chainId, seq);
      await setBlockEvents(lk.core.store, block, editedEvents(block, seq, (e) => ({ ...e, status: 201 })));
      const broken = await lk.admin('GET', '/v1/audit/verify');
      const body = broken.body as { ok: boolean; broken: { id: string; seq: number; block: number } };
      assert.equal(body.ok, false);
      assert.equal(body.broken.block, block.block);
      assert.ok(body.broken.seq <= seq && seq <= block.lastSeq, JSON.stringify(body));
      const bad = await runCli(['audit', 'verify'], env);
      assert.equal(bad.code, 1);
      assert.ok(bad.stderr.includes(body.broken.id) && bad.stderr.includes(`block ${block.block}`), bad.stderr);
      const listed = await runCli(['audit', '--agent', 'audited'], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /proxy\.request/);
    });

    test('LATCHKEY_AUDIT_RETENTION prunes what is older than the setting; verify still holds', async () => {
      const clock = new ManualClock(Date.now());
      const db = await backend.open();
      const retained = await startInProcess({ clock, env: { LATCHKEY_AUDIT_RETENTION: '30d' }, ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}) });
      try {
        for (let i = 0; i < 3; i += 1) await retained.core.audit.admin('test.old', {});
        assert.equal((await retained.core.retention.runOnce())?.events, 0, 'nothing is 30 days old yet');
        clock.advance(40 * 86_400_000);
        await retained.core.audit.admin('test.new', {});
        const result = await retained.core.retention.runOnce();
        assert.ok(result !== undefined && result.events >= 3, JSON.stringify(result));
        assert.equal((await retained.core.audit.list({ action: 'test.old' })).length, 0);
        assert.equal((await retained.core.audit.list({ action: 'test.new' })).length, 1);
        assert.equal((await retained.core.audit.verify()).ok, true);
        assert.match(retained.logs.text(), /audit events past retention pruned/);
      } finally {
        await retained.close();
        await db.drop();
      }
    });

    test('POST /v1/audit/prune and `latchkey audit prune` check their input', async () => {
      const env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
      const nothing = await runCli(['audit', 'prune', '--before', '30d'], env);
      assert.equal(nothing.code, 0, nothing.stderr);
      assert.match(nothing.stdout, /^pruned 0 event\(s\) from 0 chain\(s\), older than \d{4}-/);
      const usage = await runCli(['audit', 'prune', '--before', 'soon'], env);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /--before must be an ISO 8601 time or an age/);
      const future = await lk.admin('POST', '/v1/audit/prune', { before: '2999-01-01T00:00:00Z' });
      assert.equal(future.status, 400);
      assert.equal((future.body as { error: string }).error, 'invalid_request');
      const missing = await lk.admin('POST', '/v1/audit/prune', {});
      assert.equal(missing.status, 400);
    });
  });
}
