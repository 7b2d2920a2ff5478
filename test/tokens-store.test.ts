import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openMigratedStore, type NewConnectionRow, type Store } from '../src/store/index.js';
import { BACKENDS } from './helpers/oauth-flows.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

function connectionRow(id: string, expiresAt: string | null): NewConnectionRow {
  return {
    id,
    name: id,
    providerId: 'prv_1',
    subject: null,
    environment: 'default',
    grantType: 'imported',
    status: 'active',
    scopes: [],
    tokenType: 'Bearer',
    tokens: 'lk1.sealed.placeholder',
    expiresAt,
    refreshTokenExpiresAt: null,
    lastRefreshedAt: null,
    lastUsedAt: null,
    lastError: null,
    metadata: {},
    apiBaseUrl: null,
    refreshClaimOwner: null,
    refreshClaimUntil: null,
    refreshIntent: null,
    nextAttemptAt: null,
    createdAt: at(0),
    updatedAt: at(0),
  };
}

for (const backend of BACKENDS) {
  describe(`refresh and outbox store verbs (${backend.name})`, { skip: backend.skip }, () => {
    let store: Store;
    let db: { databaseUrl: string | undefined; drop(): Promise<void> };

    before(async () => {
      db = await backend.open();
      store = await openMigratedStore({ databaseUrl: db.databaseUrl, dataDir: mkdtempSync(join(tmpdir(), 'latchkey-store-')) });
      await store.providers.insert({
        id: 'prv_1',
        name: 'p',
        displayName: 'P',
        preset: null,
        issuer: null,
        authorizationEndpoint: null,
        tokenEndpoint: 'https://idp.example/token',
        revocationEndpoint: null,
        deviceAuthorizationEndpoint: null,
        userinfoEndpoint: null,
        introspectionEndpoint: null,
        clientId: 'c',
        clientSecret: null,
        tokenEndpointAuthMethod: 'none',
        scopes: [],
        pkce: true,
        authorizeParams: {},
        apiBaseUrl: null,
        allowedHosts: [],
        capabilities: [],
        quirks: {},
        issParameterSupported: false,
        createdAt: at(0),
        updatedAt: at(0),
        integrity: null,
      });
      await store.connections.insert(connectionRow('conn_a', at(30)));
      await store.connections.insert(connectionRow('conn_b', at(3600)));
      await store.connections.insert(connectionRow('conn_c', null));
    });

    after(async () => {
      await store.close();
      await db.drop();
    });

    test('claimRefresh: exactly one of many concurrent claimers wins', async () => {
      const wins = await Promise.all(
        Array.from({ length: 25 }, (_, i) => store.connections.claimRefresh('conn_a', `owner-${i}`, at(1), at(61))),
      );
      assert.equal(wins.filter((w) => w !== undefined).length, 1);
      const row = await store.connections.findById('conn_a');
      assert.equal(row?.refreshClaimUntil, at(61));
      assert.equal(row?.refreshClaimGeneration, 1);
    });

    test('a claim whose lease ran out can be taken over; a live one cannot', async () => {
      const holder = await store.connections.findById('conn_a');
      const oldFence = { owner: holder?.refreshClaimOwner ?? '', generation: 1 };
      assert.equal(await store.connections.claimRefresh('conn_a', 'late', at(30), at(90)), undefined);
      assert.ok(await store.connections.renewClaim('conn_a', oldFence, at(70)), 'the holder heartbeats');
      assert.equal(await store.connections.claimRefresh('conn_a', 'taker', at(65), at(121)), undefined, 'renewed');
      const taker = await store.connections.claimRefresh('conn_a', 'taker', at(71), at(131));
      assert.deepEqual(taker, { owner: 'taker', generation: 2 });
      assert.equal((await store.connections.findById('conn_a'))?.refreshClaimOwner, 'taker');
      // The old holder can no longer renew, write its intent, commit, or release someone else's claim.
      assert.equal(await store.connections.renewClaim('conn_a', oldFence, at(140)), false);
      assert.equal(await store.connections.recordRefreshIntent('conn_a', oldFence, '{}'), false);
      const write = { tokens: 'lk1.sealed.old', tokenType: 'Bearer', expiresAt: at(3700) };
      assert.equal(await store.connections.saveRefreshedTokens('conn_a', holder?.version ?? 0, oldFence, write, at(72)), false);
      await store.connections.releaseClaim('conn_a', oldFence.owner);
      assert.equal((await store.connections.findById('conn_a'))?.refreshClaimOwner, 'taker');
      assert.equal(await store.connections.recordRefreshIntent('conn_a', taker, '{"owner":"taker"}'), true);
    });

    test('saveRefreshedTokens commits only against the version read, and clears claim, intent and failures', async () => {
      const row = await store.connections.findById('conn_a');
      assert.ok(row);
      const fence = { owner: 'taker', generation: 2 };
      const write = { tokens: 'lk1.sealed.new', tokenType: 'Bearer', expiresAt: at(3700), lastRefreshedAt: at(100) };
      assert.equal(await store.connections.saveRefreshedTokens('conn_a', row.version + 1, fence, write, at(100)), false);
      assert.equal(await store.connections.saveRefreshedTokens('conn_a', row.version, fence, write, at(100)), true);
      assert.equal(await store.connections.saveRefreshedTokens('conn_a', row.version, fence, write, at(100)), false, 'stale version');
      const saved = await store.connections.findById('conn_a');
      assert.equal(saved?.version, row.version + 1);
      assert.equal(saved?.tokens, 'lk1.sealed.new');
      assert.equal(saved?.refreshClaimOwner, null);
      assert.equal(saved?.refreshIntent, null);
      assert.equal(saved?.failureCount, 0);
    });

    test('failures back off; needs_reauth takes a connection out of listExpiring', async () => {
      assert.ok(await store.connections.claimRefresh('conn_b', 'w', at(0), at(60)));
      await store.connections.recordRefreshFailure(
        'conn_b',
        'w',
        { failureCount: 1, nextAttemptAt: at(500), lastError: 'token endpoint unavailable', keepIntent: false },
        at(0),
      );
      const failed = await store.connections.findById('conn_b');
      assert.equal(failed?.failureCount, 1);
      assert.equal(failed?.refreshClaimOwner, null);
      const ids = async (now: number): Promise<string[]> =>
        (await store.connections.listExpiring(at(now + 7200), at(now), 10)).map((r) => r.id);
      assert.deepEqual(await ids(100), ['conn_a'], 'conn_b backs off until 500; conn_c never expires');
      assert.deepEqual(await ids(600), ['conn_b', 'conn_a']);

      assert.ok(await store.connections.claimRefresh('conn_b', 'x', at(600), at(660)));
      assert.deepEqual(await ids(600), ['conn_a'], 'claimed rows are skipped');
      assert.equal(await store.connections.markNeedsReauth('conn_b', 'x', 'invalid_grant', at(600)), true);
      assert.equal((await store.connections.findById('conn_b'))?.status, 'needs_reauth');
      assert.deepEqual(await ids(700), ['conn_a']);
    });

    test('outbox: events and deliveries are stored together; one sender claims each delivery', async () => {
      await store.webhooks.insert({ id: 'whk_1', url: 'https://hooks.example/x', events: ['*'], secret: 'lk1.sealed', createdAt: at(0), updatedAt: at(0) });
      await store.events.append({ id: 'evt_1', type: 'connection.created', connectionId: 'conn_a', payload: '{}', createdAt: at(10) }, ['whk_1']);
      const due = await store.events.dueDeliveries(at(10), 10);
      assert.equal(due.length, 1);
      const id = due[0]?.id ?? '';
      const claims = await Promise.all([1, 2, 3, 4, 5].map((n) => store.events.claimDelivery(id, `s${n}`, at(10), at(70))));
      assert.equal(claims.filter(Boolean).length, 1);
      const owner = `s${claims.indexOf(true) + 1}`;
      assert.equal((await store.events.dueDeliveries(at(20), 10)).length, 0, 'claimed');
      await store.events.scheduleRetry(id, owner, { attempts: 1, nextAttemptAt: at(100), lastStatus: 500, lastError: 'HTTP 500' });
      assert.equal((await store.events.dueDeliveries(at(99), 10)).length, 0);
      assert.equal((await store.events.dueDeliveries(at(100), 10)).length, 1);
      assert.ok(await store.events.claimDelivery(id, 'again', at(100), at(160)));
      await store.events.markDelivered(id, 'again', { at: at(101), status: 204, attempts: 2 });
      assert.equal((await store.events.dueDeliveries(at(10_000), 10)).length, 0);
      const [d] = await store.events.listDeliveries('whk_1');
      assert.equal(d?.status, 'delivered');
      assert.equal(await store.webhooks.remove('whk_1'), true);
      assert.equal((await store.events.listDeliveries('whk_1')).length, 0);
    });

    test('outbox pruning forgets delivered events but keeps what is still pending', async () => {
      await store.webhooks.insert({ id: 'whk_2', url: 'https://hooks.example/y', events: ['*'], secret: 'lk1.sealed', createdAt: at(0), updatedAt: at(0) });
      const event = (id: string, t: number) => ({ id, type: 'connection.refreshed', connectionId: 'conn_a', payload: '{}', createdAt: at(t) });
      await store.events.append(event('evt_done', 10), ['whk_2']);
      await store.events.append(event('evt_waiting', 11), ['whk_2']);
      await store.events.append(event('evt_unsubscribed', 12), []);
      await store.events.append(event('evt_recent', 500), []);
      assert.ok(await store.events.claimDelivery('evt_done.whk_2', 'me', at(20), at(80)));
      await store.events.markDelivered('evt_done.whk_2', 'me', { at: at(21), status: 200, attempts: 1 });
      const pruned = await store.events.pruneDelivered(at(200));
      // evt_1 of the test above lost its delivery with its webhook, so it goes too.
      assert.deepEqual(pruned, { deliveries: 1, events: 3 });
      const left = (await store.events.listEvents({ limit: 100 })).map((e) => e.id).sort();
      assert.deepEqual(left, ['evt_recent', 'evt_waiting']);
      assert.deepEqual((await store.events.listDeliveries('whk_2')).map((d) => d.id), ['evt_waiting.whk_2']);
    });
  });
}
