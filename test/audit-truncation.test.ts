import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { CHECKPOINT_DIR, auditLog, genesisHash, hashBlock, type SignedCheckpoint, type StoredEvent, type VerifyResult } from '../src/audit/index.js';
import { ManualClock, systemClock } from '../src/clock.js';
import { createLogger } from '../src/log.js';
import type { AuditBlockRow, AuditChainRow, Store } from '../src/store/index.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';

/** A chain's rows as they are now, to put back after an attack. */
interface ChainRows {
  blocks: AuditBlockRow[];
  head: AuditChainRow;
}

async function chainRows(store: Store, chainId: string): Promise<ChainRows> {
  const head = (await store.audit.chains()).find((c) => c.id === chainId);
  assert.ok(head, `chain ${chainId} has no head`);
  return { blocks: await store.audit.blockPage(chainId, 0, 10_000), head };
}

async function dropChain(store: Store, chainId: string): Promise<void> {
  await sql`delete from audit_blocks where chain_id = ${chainId}`.execute(store.db.kysely);
  await sql`delete from audit_chains where id = ${chainId}`.execute(store.db.kysely);
}

async function putBack(store: Store, rows: ChainRows): Promise<void> {
  await dropChain(store, rows.head.id);
  await store.db.kysely.insertInto('auditChains').values(rows.head).execute();
  for (const block of rows.blocks) await store.db.kysely.insertInto('auditBlocks').values(block).execute();
}

/** What a database-only writer can do: cut the chain after `keep` blocks and move the head row back to match. */
async function truncate(store: Store, rows: ChainRows, keep: number): Promise<void> {
  const last = rows.blocks.find((b) => b.block === keep);
  assert.ok(last, `no block ${keep}`);
  await sql`delete from audit_blocks where chain_id = ${last.chainId} and block > ${keep}`.execute(store.db.kysely);
  await sql`update audit_chains set last_block = ${keep}, last_seq = ${last.lastSeq}, last_hash = ${last.hash} where id = ${last.chainId}`.execute(store.db.kysely);
}

/**
 * Edits an event of block `at` and recomputes every link after it with plain
 * SHA-256, head row included (everything someone without the master key can
 * compute); `prefix` is put in front of each hash, as a keyed chain shows it.
 */
async function rehashFrom(store: Store, rows: ChainRows, at: number, prefix: string, fromGenesis: boolean): Promise<void> {
  let prev = fromGenesis ? genesisHash(rows.head.id) : (rows.blocks.find((b) => b.block === at - 1)?.hash ?? genesisHash(rows.head.id));
  for (const block of rows.blocks.filter((b) => b.block >= (fromGenesis ? 1 : at))) {
    let events = block.events;
    if (block.block === at) {
      const edited = (JSON.parse(events) as StoredEvent[]).map((e, i) => (i === 0 ? { ...e, outcome: 'denied' } : e));
      events = JSON.stringify(edited);
    }
    const hash = prefix + hashBlock(prev, block.chainId, block.block, events);
    await sql`update audit_blocks set events = ${events}, prev_hash = ${prev}, hash = ${hash} where chain_id = ${block.chainId} and block = ${block.block}`.execute(store.db.kysely);
    prev = hash;
  }
  await sql`update audit_chains set last_hash = ${prev} where id = ${rows.head.id}`.execute(store.db.kysely);
}

async function verify(lk: InProcess): Promise<VerifyResult> {
  const res = await lk.admin('GET', '/v1/audit/verify');
  assert.equal(res.status, 200);
  return res.body as VerifyResult;
}

/** A few audited admin changes, each its own block. */
async function changes(lk: InProcess, tag: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) assert.equal((await lk.admin('POST', '/v1/agents', { name: `${tag}-${i}` })).status, 201);
}

function checkpointFile(lk: InProcess): string {
  return join(lk.config.dataDir, CHECKPOINT_DIR, `${lk.core.audit.chainId}.json`);
}

for (const backend of BACKENDS) {
  describe(`audit truncation, keyed chains and checkpoints (${backend.name})`, { skip: backend.skip }, () => {
    let lk: InProcess;
    let drop: () => Promise<void> = async () => {};
    let chainId: string;

    before(async () => {
      const db = await backend.open();
      drop = db.drop;
      lk = await startInProcess(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {});
      chainId = lk.core.audit.chainId;
      await changes(lk, 'before', 6);
      await lk.core.audit.checkpoint();
      // Written after the checkpoint: a truncation of only these is the documented blind spot.
      await changes(lk, 'after', 2);
    });

    after(async () => {
      await lk?.close();
      await drop();
    });

    test('the chain is keyed, a checkpoint file (0600) and an audit.checkpoint event record it, and verify says so', async () => {
      const blocks = await lk.core.store.audit.blockPage(chainId, 0, 1000);
      assert.ok(blocks.length >= 8 && blocks.every((b) => b.hash.startsWith('k1:')), JSON.stringify(blocks.map((b) => b.hash)));
      const cp = JSON.parse(readFileSync(checkpointFile(lk), 'utf8')) as SignedCheckpoint;
      assert.equal(cp.chainId, chainId);
      assert.ok(cp.block >= 6 && cp.block < blocks.length, JSON.stringify(cp));
      assert.equal(cp.hash, blocks[cp.block - 1]?.hash);
      if (process.platform !== 'win32') assert.equal(statSync(checkpointFile(lk)).mode & 0o777, 0o600);
      const [event] = await lk.core.store.events.listEvents({ type: 'audit.checkpoint' });
      assert.ok(event, 'an audit.checkpoint event is in the outbox');
      const body = JSON.parse(event.payload) as { type: string; data: { checkpoint: SignedCheckpoint } };
      assert.equal(body.type, 'audit.checkpoint');
      assert.ok(body.data.checkpoint.chainId === chainId && typeof body.data.checkpoint.mac === 'string', event.payload);
      // A receiver can subscribe to it.
      const hook = await lk.admin('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['audit.checkpoint'] });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      const intact = await verify(lk);
      assert.ok(intact.ok && intact.checkpoints === 1 && intact.unkeyed === 0, JSON.stringify(intact));
      const cli = await runCli(['audit', 'verify'], { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN });
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /intact: \d+ event\(s\) verified, 1 checkpoint\(s\) checked\n/);
    });

    test('deleting the newest blocks together with the chain head is detected, with what is missing', async () => {
      const rows = await chainRows(lk.core.store, chainId);
      const cp = JSON.parse(readFileSync(checkpointFile(lk), 'utf8')) as SignedCheckpoint;
      const keep = cp.block - 3;
      await truncate(lk.core.store, rows, keep);
      try {
        const cut = await verify(lk);
        const reached = (rows.blocks[keep - 1] as AuditBlockRow).lastSeq;
        assert.ok(!cut.ok && cut.broken.chainId === chainId && cut.broken.seq === reached + 1, JSON.stringify(cut));
        assert.ok(!cut.ok && cut.broken.reason.includes(`events ${reached + 1}–${cp.seq} are gone`), JSON.stringify(cut));
        const cli = await runCli(['audit', 'verify'], { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN });
        assert.equal(cli.code, 1);
        assert.ok(cli.stderr.includes(chainId) && cli.stderr.includes('are gone'), cli.stderr);
      } finally {
        await putBack(lk.core.store, rows);
      }
      assert.equal((await verify(lk)).ok, true);
    });

    test('deleting a whole chain (blocks and head) is detected', async () => {
      const rows = await chainRows(lk.core.store, chainId);
      await dropChain(lk.core.store, chainId);
      try {
        const gone = await verify(lk);
        assert.ok(!gone.ok && gone.broken.chainId === chainId && /the whole chain is gone/.test(gone.broken.reason), JSON.stringify(gone));
      } finally {
        await putBack(lk.core.store, rows);
      }
      assert.equal((await verify(lk)).ok, true);
    });

    test('an edited event with every later link recomputed as SHA-256 is detected (the key is not in the database)', async () => {
      const rows = await chainRows(lk.core.store, chainId);
      // Keeping the keyed marker: the block's HMAC does not match.
      await rehashFrom(lk.core.store, rows, 3, 'k1:', false);
      try {
        const forged = await verify(lk);
        assert.ok(!forged.ok && forged.broken.block === 3 && /changed after it was written/.test(forged.broken.reason), JSON.stringify(forged));
      } finally {
        await putBack(lk.core.store, rows);
      }
      // Passing the whole chain off as an unkeyed one, from its genesis: the checkpoint's hash is not there any more.
      await rehashFrom(lk.core.store, rows, 3, '', true);
      try {
        const downgraded = await verify(lk);
        assert.ok(!downgraded.ok && downgraded.broken.chainId === chainId, JSON.stringify(downgraded));
        assert.match(!downgraded.ok ? downgraded.broken.reason : '', /is not the one audit-checkpoints\/chn_\w+\.json/);
      } finally {
        await putBack(lk.core.store, rows);
      }
      // One block marked unkeyed inside a keyed chain.
      const third = rows.blocks[2] as AuditBlockRow;
      await sql`update audit_blocks set hash = ${hashBlock(third.prevHash, chainId, 3, third.events)} where chain_id = ${chainId} and block = 3`.execute(lk.core.store.db.kysely);
      try {
        const mixed = await verify(lk);
        assert.ok(!mixed.ok && mixed.broken.block === 3 && /not keyed, unlike the rest of its chain/.test(mixed.broken.reason), JSON.stringify(mixed));
      } finally {
        await putBack(lk.core.store, rows);
      }
      assert.equal((await verify(lk)).ok, true);
    });

    test('an audit.prune event made up in an unkeyed chain does not excuse cutting a keyed chain', async () => {
      const rows = await chainRows(lk.core.store, chainId);
      const last = rows.blocks.at(-1) as AuditBlockRow;
      const forger = auditLog({ store: lk.core.store.audit, clock: systemClock, logger: createLogger('silent') });
      const anchor = { chainId, block: last.block, seq: last.lastSeq, hash: last.hash };
      await forger.admin('audit.prune', { detail: { before: new Date().toISOString(), anchors: [anchor] } });
      await sql`delete from audit_blocks where chain_id = ${chainId}`.execute(lk.core.store.db.kysely);
      await sql`update audit_chains set anchor_block = ${anchor.block}, anchor_seq = ${anchor.seq}, anchor_hash = ${anchor.hash} where id = ${chainId}`.execute(lk.core.store.db.kysely);
      try {
        const laundered = await verify(lk);
        assert.ok(!laundered.ok && laundered.broken.chainId === chainId && /no audit\.prune event/.test(laundered.broken.reason), JSON.stringify(laundered));
      } finally {
        await putBack(lk.core.store, rows);
        await dropChain(lk.core.store, forger.chainId);
      }
      assert.equal((await verify(lk)).ok, true);
    });

    test('an edited or unreadable checkpoint file is reported', async () => {
      const path = checkpointFile(lk);
      const original = readFileSync(path, 'utf8');
      const cp = JSON.parse(original) as SignedCheckpoint;
      writeFileSync(path, JSON.stringify({ ...cp, seq: cp.seq - 1 }));
      try {
        const edited = await verify(lk);
        assert.ok(!edited.ok && edited.broken.chainId === chainId && /signature does not match/.test(edited.broken.reason), JSON.stringify(edited));
        writeFileSync(path, 'not json');
        const garbled = await verify(lk);
        assert.ok(!garbled.ok && /does not hold a checkpoint/.test(garbled.broken.reason), JSON.stringify(garbled));
      } finally {
        writeFileSync(path, original);
      }
      assert.equal((await verify(lk)).ok, true);
    });

    test('a chain written without a key (before keyed chains) still verifies and is counted as unkeyed', async () => {
      const old = auditLog({ store: lk.core.store.audit, clock: systemClock, logger: createLogger('silent') });
      await old.admin('test.unkeyed', {});
      try {
        const result = await verify(lk);
        assert.ok(result.ok && result.unkeyed === 1, JSON.stringify(result));
      } finally {
        await dropChain(lk.core.store, old.chainId);
      }
    });
  });

  describe(`audit checkpoints across restarts and prunes (${backend.name})`, { skip: backend.skip }, () => {
    test('restarting and writing on still verifies; each process leaves its final checkpoint', async () => {
      const db = await backend.open();
      const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-audit-restart-'));
      const options = { dataDir, ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}) };
      try {
        const first = await startInProcess(options);
        await changes(first, 'first', 3);
        const firstChain = first.core.audit.chainId;
        await first.close();
        const second = await startInProcess(options);
        try {
          await changes(second, 'second', 3);
          await second.core.audit.checkpoint();
          const result = await verify(second);
          assert.ok(result.ok && result.checkpoints === 2 && result.unkeyed === 0, JSON.stringify(result));
          assert.deepEqual(readdirSync(join(dataDir, CHECKPOINT_DIR)).sort(), [`${firstChain}.json`, `${second.core.audit.chainId}.json`].sort());
          // The first process's final checkpoint is at its last block: its whole tail is covered.
          const cp = JSON.parse(readFileSync(join(dataDir, CHECKPOINT_DIR, `${firstChain}.json`), 'utf8')) as SignedCheckpoint;
          const head = (await second.core.store.audit.chains()).find((c) => c.id === firstChain);
          assert.equal(cp.block, head?.lastBlock);
        } finally {
          await second.close();
        }
      } finally {
        await db.drop();
      }
    });

    test('a legitimate prune past a checkpoint still verifies; a checkpoint beyond the prune is still enforced', async () => {
      const db = await backend.open();
      const clock = new ManualClock(Date.now());
      const lk = await startInProcess({ clock, ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}) });
      try {
        await changes(lk, 'old', 4);
        await lk.core.audit.checkpoint();
        const checkpointed = JSON.parse(readFileSync(checkpointFile(lk), 'utf8')) as SignedCheckpoint;
        clock.advance(40 * 86_400_000);
        await changes(lk, 'new', 3);
        const pruned = await lk.admin('POST', '/v1/audit/prune', { before: new Date(clock.now().getTime() - 30 * 86_400_000).toISOString() });
        assert.equal(pruned.status, 200, JSON.stringify(pruned.body));
        assert.ok((pruned.body as { events: number }).events >= 8);
        const head = (await lk.core.store.audit.chains()).find((c) => c.id === lk.core.audit.chainId);
        assert.ok(head && head.anchorBlock >= checkpointed.block, JSON.stringify(head));
        const afterPrune = await verify(lk);
        assert.ok(afterPrune.ok && afterPrune.checkpoints === 1, JSON.stringify(afterPrune));

        // A newer checkpoint past the anchor: cutting the tail now is still seen.
        await lk.core.audit.checkpoint();
        const rows = await chainRows(lk.core.store, lk.core.audit.chainId);
        await truncate(lk.core.store, rows, head.anchorBlock + 1);
        try {
          const cut = await verify(lk);
          assert.ok(!cut.ok && /are gone/.test(cut.broken.reason), JSON.stringify(cut));
        } finally {
          await putBack(lk.core.store, rows);
        }
        assert.equal((await verify(lk)).ok, true);
      } finally {
        await lk.close();
        await db.drop();
      }
    });
  });
}
