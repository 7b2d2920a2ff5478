import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pathWithin } from '../src/agents/index.js';
import { verifySignature, type EventBody } from '../src/events/index.js';
import { auditEvents, createAgent, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { BACKENDS } from './helpers/oauth-flows.js';
import { assertNoSecret, startReceiver, until, type Receiver } from './helpers/token-lifecycle.js';

test('pathWithin: a narrowed path never reaches outside the requested one', () => {
  assert.ok(pathWithin('/repos/a/**', '/repos/**'));
  assert.ok(pathWithin('/repos', '/repos/**'));
  assert.ok(pathWithin('/repos/a/issues', '/repos/*/issues'));
  assert.ok(pathWithin('/user', '/user'));
  assert.ok(!pathWithin('/reposx', '/repos/**'));
  assert.ok(!pathWithin('/repos/**', '/repos/*'), '** crosses segments, * does not');
  assert.ok(!pathWithin('/repos/*/x', '/repos/a/*'));
  assert.ok(!pathWithin('/', '/repos/**'));
});

const ACCESS_TOKEN = 'proposal-test-access-token-0123456789';

interface ProposalView {
  id: string;
  agent: { id: string; name: string };
  status: string;
  request: Record<string, unknown>;
  reason: string;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: { type: string; id: string | null; name: string | null } | null;
  rule: Record<string, unknown> | null;
  lease: Record<string, unknown> | null;
  decisionReason: string | null;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function call(lk: InProcess, key: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(lk.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>, headers: res.headers };
}

async function policyOf(lk: InProcess, agent: string): Promise<{ rules: unknown[]; lease: Record<string, unknown> }> {
  const res = await lk.admin('GET', `/v1/agents/${agent}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as { policy: { rules: unknown[]; lease: Record<string, unknown> } }).policy;
}

/** A provider on a fake API with one capability, and a connection with an imported token. */
async function setUp(lk: InProcess, api: FakeApi): Promise<void> {
  const provider = await lk.admin('POST', '/v1/providers', {
    name: 'api',
    tokenEndpoint: `${api.url}/token`,
    apiBaseUrl: api.url,
    capabilities: [
      { name: 'read-issues', description: 'read issues', methods: ['GET'], pathPrefixes: ['/issues'] },
      { name: 'write-issues', description: 'write issues', methods: ['POST'], pathPrefixes: ['/issues'] },
    ],
  });
  assert.equal(provider.status, 201, JSON.stringify(provider.body));
  const expiresAt = new Date(Date.now() + 3600_000).toISOString();
  const imported = await lk.admin('POST', '/v1/connections/import', { name: 'api', provider: 'api', accessToken: ACCESS_TOKEN, expiresAt });
  assert.equal(imported.status, 201, JSON.stringify(imported.body));
}

for (const backend of BACKENDS) {
  describe(`access proposals (${backend.name})`, { skip: backend.skip }, () => {
    let lk: InProcess;
    let api: FakeApi;
    let receiver: Receiver;
    let hookSecret: string;
    let db: { databaseUrl: string | undefined; drop(): Promise<void> };
    const keys: string[] = [];

    before(async () => {
      db = await backend.open();
      lk = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' }, ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : {}) });
      api = await startFakeApi();
      receiver = await startReceiver();
      await setUp(lk, api);
      const hook = await lk.admin('POST', '/v1/webhooks', { url: `http://127.0.0.1:${receiver.port}/hook`, events: ['proposal.created', 'proposal.decided'] });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      hookSecret = (hook.body as { secret: string }).secret;
    });

    after(async () => {
      assertNoSecret(lk.logs.text(), [ACCESS_TOKEN, hookSecret, ...keys], 'the logs');
      await lk.close();
      await api.close();
      await receiver.close();
      await db.drop();
    });

    test('refused → 403 with proposalsUrl → proposal → narrowed approval → the refused call works, a wider one is still refused', async () => {
      const bot = await createAgent(lk, { name: 'bot', policy: { rules: [{ connections: ['api'], methods: ['GET'], paths: ['/user'] }] } });
      keys.push(bot.apiKey);
      const proposalsUrl = `${lk.config.publicUrl.replace(/\/+$/, '')}/v1/proposals`;

      const refused = await call(lk, bot.apiKey, 'GET', '/v1/proxy/api/repos/a/issues');
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error, 'forbidden');
      assert.equal(refused.body.proposalsUrl, proposalsUrl);
      assert.match(String(refused.body.message), /to ask for access, POST .*\/v1\/proposals/);
      const invoke = await call(lk, bot.apiKey, 'POST', '/v1/invoke/api/read-issues', {});
      assert.equal(invoke.status, 403);
      assert.equal(invoke.body.proposalsUrl, proposalsUrl);
      const lease = await call(lk, bot.apiKey, 'POST', '/v1/leases', { connection: 'api' });
      assert.equal(lease.status, 403);
      assert.equal(lease.body.proposalsUrl, proposalsUrl);

      const reason = '<script>alert(1)</script>\n<b>need</b> the repos\t& "issues"';
      const asked = await call(lk, bot.apiKey, 'POST', '/v1/proposals', { connection: 'api', methods: ['get', 'POST'], paths: ['/repos/**'], reason });
      assert.equal(asked.status, 201, JSON.stringify(asked.body));
      const proposal = asked.body as unknown as ProposalView;
      assert.match(proposal.id, /^prop_/);
      assert.equal(proposal.status, 'pending');
      assert.deepEqual(proposal.agent, { id: bot.id, name: 'bot' });
      assert.deepEqual(proposal.request, { connection: 'api', methods: ['GET', 'POST'], paths: ['/repos/**'] });
      assert.equal(proposal.reason, reason, 'the reason is kept as data, byte for byte');
      assert.equal(proposal.decidedAt, null);
      assert.equal(proposal.decidedBy, null);
      assert.equal(proposal.rule, null);

      // Asking again while it is pending answers the same proposal.
      const again = await call(lk, bot.apiKey, 'POST', '/v1/proposals', { connection: 'api', methods: ['POST', 'GET'], paths: ['/repos/**'], reason: 'again' });
      assert.equal(again.status, 200);
      assert.equal(again.body.id, proposal.id);

      // The agent polls its own proposal.
      const polled = await call(lk, bot.apiKey, 'GET', `/v1/proposals/${proposal.id}`);
      assert.equal(polled.status, 200);
      assert.equal(polled.body.status, 'pending');
      assert.equal(polled.body.reason, reason);

      // The agent cannot approve its own proposal.
      const self = await call(lk, bot.apiKey, 'POST', `/v1/proposals/${proposal.id}/approve`, {});
      assert.equal(self.status, 401);

      // A rule wider than the request is refused.
      for (const rule of [{ methods: ['DELETE'] }, { paths: ['/'] }, { paths: ['/repos/**', '/admin'] }, { connections: ['other'] }, { capabilities: ['read-issues'] }]) {
        const wider = await lk.admin('POST', `/v1/proposals/${proposal.id}/approve`, { rule });
        assert.equal(wider.status, 400, `${JSON.stringify(rule)}: ${JSON.stringify(wider.body)}`);
        assert.equal((wider.body as { error: string }).error, 'invalid_request');
      }
      const leaseNotAsked = await lk.admin('POST', `/v1/proposals/${proposal.id}/approve`, { lease: { maxTtl: '5m' } });
      assert.equal(leaseNotAsked.status, 400);
      assert.equal((await policyOf(lk, 'bot')).rules.length, 1, 'a refused approval changes nothing');

      const approved = await lk.admin('POST', `/v1/proposals/${proposal.id}/approve`, { rule: { methods: ['GET'], paths: ['/repos/a/**'] } });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      const decided = approved.body as ProposalView;
      assert.equal(decided.status, 'approved');
      assert.deepEqual(decided.rule, { connections: ['api'], methods: ['GET'], paths: ['/repos/a/**'] });
      assert.deepEqual(decided.decidedBy, { type: 'admin', id: null, name: 'admin' });
      assert.ok(decided.decidedAt !== null);
      assert.deepEqual((await policyOf(lk, 'bot')).rules, [
        { connections: ['api'], methods: ['GET'], paths: ['/user'] },
        { connections: ['api'], methods: ['GET'], paths: ['/repos/a/**'] },
      ]);

      // At once: the key cache does not hide the new rule.
      const now = await call(lk, bot.apiKey, 'GET', '/v1/proxy/api/repos/a/issues');
      assert.equal(now.status, 200, JSON.stringify(now.body));
      assert.equal(api.seen.at(-1)?.url, '/repos/a/issues');
      assert.equal((await call(lk, bot.apiKey, 'GET', '/v1/proxy/api/repos/b')).status, 403, 'another path is still refused');
      assert.equal((await call(lk, bot.apiKey, 'POST', '/v1/proxy/api/repos/a/issues')).status, 403, 'POST was narrowed away');

      const twice = await lk.admin('POST', `/v1/proposals/${proposal.id}/approve`, {});
      assert.equal(twice.status, 409);
      assert.equal((await lk.admin('POST', `/v1/proposals/${proposal.id}/deny`, {})).status, 409);

      const audit = await auditEvents(lk, '?action=proposal.approve');
      const entry = audit.find((e) => e.detail.proposal === proposal.id);
      assert.ok(entry, 'the approval is audited');
      assert.deepEqual(entry.detail.rule, { connections: ['api'], methods: ['GET'], paths: ['/repos/a/**'] });
      assert.equal(entry.actor.type, 'admin');
      const created = (await auditEvents(lk, '?action=proposal.create')).find((e) => e.detail.proposal === proposal.id);
      assert.equal(created?.actor.name, 'bot');

      // Webhooks: created and decided, signed.
      const events = await until(() => {
        const bodies = receiver.received.map((r) => ({ r, body: JSON.parse(r.body) as EventBody<{ proposal: ProposalView }> }));
        const mine = bodies.filter((b) => b.body.data.proposal?.id === proposal.id);
        return mine.length >= 2 ? mine : undefined;
      });
      assert.deepEqual(events.map((e) => e.body.type).sort(), ['proposal.created', 'proposal.decided']);
      for (const { r } of events) {
        assert.ok(verifySignature(hookSecret, String(r.headers['latchkey-signature']), r.body, { now: Math.floor(Date.now() / 1000) }), 'signed');
      }
      const decidedEvent = events.find((e) => e.body.type === 'proposal.decided');
      assert.equal(decidedEvent?.body.data.proposal.status, 'approved');
      assert.deepEqual(decidedEvent?.body.data.proposal.rule, { connections: ['api'], methods: ['GET'], paths: ['/repos/a/**'] });
      assert.equal(events.find((e) => e.body.type === 'proposal.created')?.body.data.proposal.reason, reason);
    });

    test('capabilities and leases: narrowed to one capability and a shorter lease', async () => {
      const capa = await createAgent(lk, { name: 'capa', policy: { rules: [] } });
      keys.push(capa.apiKey);
      const asked = await call(lk, capa.apiKey, 'POST', '/v1/proposals', {
        connection: 'api',
        capabilities: ['read-issues', 'write-issues'],
        lease: { maxTtl: '1h' },
        reason: 'triage',
      });
      assert.equal(asked.status, 201, JSON.stringify(asked.body));
      assert.deepEqual(asked.body.request, { connection: 'api', capabilities: ['read-issues', 'write-issues'], lease: { maxTtl: 3600 } });
      const id = String(asked.body.id);
      assert.equal((await lk.admin('POST', `/v1/proposals/${id}/approve`, { lease: { maxTtl: '2h' } })).status, 400, 'longer lease than asked');
      assert.equal((await lk.admin('POST', `/v1/proposals/${id}/approve`, { rule: { methods: ['GET'] } })).status, 400, 'methods for a capability ask');
      const ok = await lk.admin('POST', `/v1/proposals/${id}/approve`, { rule: { capabilities: ['read-issues'] }, lease: { maxTtl: '10m' } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual((ok.body as ProposalView).lease, { maxTtl: 600 });
      const policy = await policyOf(lk, 'capa');
      assert.deepEqual(policy.rules, [{ connections: ['api'], capabilities: ['read-issues'] }]);
      assert.deepEqual(policy.lease, { allowed: true, maxTtl: 600 });
      assert.equal((await call(lk, capa.apiKey, 'POST', '/v1/invoke/api/read-issues', { path: '/issues' })).status, 200);
      assert.equal((await call(lk, capa.apiKey, 'POST', '/v1/invoke/api/write-issues', { path: '/issues' })).status, 403);
    });

    test('deny, and agents see only their own proposals', async () => {
      const alice = await createAgent(lk, { name: 'alice', policy: { rules: [] } });
      const eve = await createAgent(lk, { name: 'eve', policy: { rules: [] } });
      keys.push(alice.apiKey, eve.apiKey);
      const asked = await call(lk, alice.apiKey, 'POST', '/v1/proposals', { connection: 'api', reason: 'full access please' });
      assert.equal(asked.status, 201);
      const id = String(asked.body.id);

      assert.equal((await call(lk, eve.apiKey, 'GET', `/v1/proposals/${id}`)).status, 404, "another agent's proposal does not exist for eve");
      const eveList = await call(lk, eve.apiKey, 'GET', '/v1/proposals');
      assert.deepEqual(eveList.body, []);
      assert.equal((await call(lk, eve.apiKey, 'POST', `/v1/proposals/${id}/approve`, {})).status, 401);
      assert.equal((await call(lk, eve.apiKey, 'POST', `/v1/proposals/${id}/deny`, {})).status, 401);

      const all = await lk.admin('GET', '/v1/proposals?status=pending');
      assert.ok((all.body as ProposalView[]).some((p) => p.id === id), 'the operator sees every proposal');
      const paged = await lk.admin('GET', '/v1/proposals?limit=1');
      const page = paged.body as { items: ProposalView[]; nextCursor: string | null };
      assert.equal(page.items.length, 1);
      assert.ok(page.nextCursor !== null);
      assert.equal(paged.headers.get('latchkey-next-cursor'), page.nextCursor);
      const next = await lk.admin('GET', `/v1/proposals?limit=1&cursor=${encodeURIComponent(page.nextCursor)}`);
      assert.notEqual((next.body as { items: ProposalView[] }).items[0]?.id, page.items[0]?.id);
      assert.equal((await lk.admin('GET', '/v1/proposals?cursor=garbage')).status, 400);

      const denied = await lk.admin('POST', `/v1/proposals/${id}/deny`, { reason: 'use the read-only connection' });
      assert.equal(denied.status, 200, JSON.stringify(denied.body));
      assert.equal((denied.body as ProposalView).status, 'denied');
      const seen = await call(lk, alice.apiKey, 'GET', `/v1/proposals/${id}`);
      assert.equal(seen.body.status, 'denied');
      assert.equal(seen.body.decisionReason, 'use the read-only connection');
      assert.deepEqual((await policyOf(lk, 'alice')).rules, []);
      assert.ok((await auditEvents(lk, '?action=proposal.deny')).some((e) => e.detail.proposal === id));
      assert.deepEqual((await call(lk, alice.apiKey, 'GET', '/v1/proposals?status=denied')).body.length, 1);
    });

    test('bad input: unknown things, both or neither target, control characters, the pending cap', async () => {
      const spam = await createAgent(lk, { name: 'spam', policy: { rules: [] } });
      keys.push(spam.apiKey);
      const bad: Array<[unknown, number]> = [
        [{ connection: 'nope', reason: 'x' }, 404],
        [{ provider: 'nope', reason: 'x' }, 404],
        [{ connection: 'api', provider: 'api', reason: 'x' }, 400],
        [{ reason: 'x' }, 400],
        [{ connection: 'api' }, 400],
        [{ connection: 'api', reason: '' }, 400],
        [{ connection: 'api', reason: 'bell\u0007' }, 400],
        [{ connection: 'api', reason: 'x'.repeat(1001) }, 400],
        [{ connection: 'api', capabilities: ['nope'], reason: 'x' }, 400],
        [{ connection: 'api', capabilities: ['read-issues'], methods: ['GET'], reason: 'x' }, 400],
        [{ connection: 'api', methods: ['TRACE'], reason: 'x' }, 400],
        [{ connection: 'api', paths: ['repos'], reason: 'x' }, 400],
        [{ connection: 'api', paths: ['/repos/../admin'], reason: 'x' }, 400],
        [{ connection: '*', reason: 'x' }, 404],
        [{ connection: 'api', reason: 'x', extra: 1 }, 400],
      ];
      for (const [body, status] of bad) {
        const res = await call(lk, spam.apiKey, 'POST', '/v1/proposals', body);
        assert.equal(res.status, status, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        assert.equal(typeof res.body.error, 'string');
      }
      assert.equal((await call(lk, 'lka_not_a_key', 'POST', '/v1/proposals', { connection: 'api', reason: 'x' })).status, 401);

      for (let i = 0; i < 20; i += 1) {
        const res = await call(lk, spam.apiKey, 'POST', '/v1/proposals', { connection: 'api', paths: [`/p${i}`], reason: `ask ${i}` });
        assert.equal(res.status, 201, JSON.stringify(res.body));
      }
      const capped = await call(lk, spam.apiKey, 'POST', '/v1/proposals', { connection: 'api', paths: ['/p20'], reason: 'one more' });
      assert.equal(capped.status, 409);
      assert.match(String(capped.body.message), /20 pending proposals/);
      // A pending one asked again is still answered.
      assert.equal((await call(lk, spam.apiKey, 'POST', '/v1/proposals', { connection: 'api', paths: ['/p3'], reason: 'again' })).status, 200);
    });

    test('two approvals at once: one wins, the other is a conflict, the rule is appended once', async () => {
      const racer = await createAgent(lk, { name: 'racer', policy: { rules: [] } });
      keys.push(racer.apiKey);
      for (let round = 0; round < 3; round += 1) {
        const asked = await call(lk, racer.apiKey, 'POST', '/v1/proposals', { connection: 'api', paths: [`/race/${round}`], reason: 'race' });
        assert.equal(asked.status, 201);
        const id = String(asked.body.id);
        const answers = await Promise.all([
          lk.admin('POST', `/v1/proposals/${id}/approve`, {}),
          lk.admin('POST', `/v1/proposals/${id}/approve`, { rule: { methods: ['GET'] } }),
          lk.admin('POST', `/v1/proposals/${id}/deny`, {}),
        ]);
        const statuses = answers.map((a) => a.status).sort();
        assert.deepEqual(statuses, [200, 409, 409], JSON.stringify(answers.map((a) => a.body)));
        const final = (await lk.admin('GET', `/v1/proposals/${id}`)).body as ProposalView;
        const rules = (await policyOf(lk, 'racer')).rules as Array<{ paths?: string[] }>;
        const appended = rules.filter((r) => r.paths?.[0] === `/race/${round}`);
        assert.equal(appended.length, final.status === 'approved' ? 1 : 0, 'exactly the winner changed the policy');
      }
    });
  });
}
