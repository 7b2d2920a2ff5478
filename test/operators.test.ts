import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { ROUTE_ROLES } from '../src/server/roles.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { raw, signIn, type ConsoleSession } from './helpers/operators.js';

const PASSWORDS = { alice: 'alice-correct-horse-1', olga: 'olga-battery-staple-2', vic: 'vic-viewer-password-3' };

interface AuditRow {
  action: string;
  actor: { type: string; id: string | null; name: string | null };
  outcome: string;
  detail: Record<string, unknown>;
}

async function audit(server: InProcess, action: string): Promise<AuditRow[]> {
  const res = await server.admin('GET', `/v1/audit?action=${encodeURIComponent(action)}&limit=1000`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const body = res.body as AuditRow[] | { items: AuditRow[] };
  return Array.isArray(body) ? body : body.items;
}

describe('operators, roles and console sessions', () => {
  let server: InProcess;
  const clock = new ManualClock(Date.parse('2026-03-01T09:00:00Z'));
  let origin: string;

  before(async () => {
    server = await startInProcess({ clock, env: { LATCHKEY_SESSION_IDLE_TIMEOUT: '30m', LATCHKEY_SESSION_MAX_AGE: '12h' } });
    origin = new URL(server.url).origin;
    for (const [name, role] of [['alice', 'admin'], ['olga', 'operator'], ['vic', 'viewer']] as const) {
      const res = await server.admin('POST', '/v1/operators', { name, role, password: PASSWORDS[name] });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body as object).sort(), ['createdAt', 'hasPassword', 'id', 'name', 'role', 'updatedAt']);
    }
  });
  after(async () => server?.close());

  test('a password sign-in sets a __Host- session cookie (HttpOnly, SameSite=Strict, Secure, Path=/) and GET /v1/session shows who', async () => {
    const session = await signIn(server.url, { name: 'olga', password: PASSWORDS.olga });
    const attributes = session.setCookie.split(';').map((a) => a.trim().toLowerCase());
    assert.match(session.setCookie, /^__Host-lk_session=[A-Za-z0-9_-]{43};/);
    for (const a of ['path=/', 'httponly', 'samesite=strict', 'secure']) assert.ok(attributes.includes(a), `${a} in ${session.setCookie}`);
    assert.ok(!attributes.some((a) => a.startsWith('domain=')), 'a __Host- cookie has no Domain');
    const me = await session.call('GET', '/v1/session');
    assert.equal(me.status, 200);
    assert.equal(me.headers['cache-control'], 'no-store');
    assert.deepEqual((me.body.operator as { name: string; role: string }).name, 'olga');
    assert.equal((me.body.operator as { role: string }).role, 'operator');
    assert.equal(me.body.csrfToken, session.csrfToken);
    assert.ok(typeof me.body.expiresAt === 'string' && typeof me.body.idleExpiresAt === 'string');

    const wrong = await raw(server.url, 'POST', '/v1/sessions', { origin }, { name: 'olga', password: 'not-the-password!' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'unauthorized');
    assert.equal(wrong.headers['set-cookie'], undefined);
    const unknown = await raw(server.url, 'POST', '/v1/sessions', { origin }, { name: 'nobody', password: 'whatever-password' });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.message, wrong.body.message, 'an unknown name answers like a wrong password');
    const mixed = await raw(server.url, 'POST', '/v1/sessions', { origin }, { name: 'olga', signInToken: 'abc' });
    assert.equal(mixed.status, 400);
    assert.equal((await raw(server.url, 'GET', '/v1/session')).status, 401);
  });

  test('a viewer cannot change anything: every non-GET admin route answers 403 forbidden, and the token read is refused', async () => {
    const vic = await signIn(server.url, { name: 'vic', password: PASSWORDS.vic });
    const routes = server.app.adminRoutes;
    assert.ok(routes.length > 20, 'the admin route table is filled');
    const changes = routes.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
    assert.ok(changes.length > 10);
    for (const r of [...changes, { method: 'DELETE', url: '/v1/leases/:id' }]) {
      const path = r.url.replace(/:[A-Za-z]+/g, 'x');
      const res = await vic.call(r.method, path);
      assert.equal(res.status, 403, `${r.method} ${r.url}: ${res.text}`);
      assert.equal(res.body.error, 'forbidden', `${r.method} ${r.url}`);
    }
    for (const path of ['/v1/providers', '/v1/connections', '/v1/agents', '/v1/audit', '/v1/operators', '/v1/webhooks', '/v1/leases', '/v1/keys']) {
      assert.equal((await vic.call('GET', path)).status, 200, path);
    }
    const token = await vic.call('GET', '/v1/connections/x/token');
    assert.equal(token.status, 403);
    assert.equal(token.body.error, 'forbidden');
    assert.equal((await vic.call('HEAD', '/v1/connections/x/token')).status, 403, 'HEAD runs the GET handler, so it needs the same role');
    for (const r of routes.filter((x) => x.method === 'HEAD')) {
      const get = routes.find((x) => x.method === 'GET' && x.url === r.url);
      assert.equal(r.role, get?.role, `HEAD ${r.url} needs what GET needs`);
    }
    const denied = await audit(server, 'auth.forbidden');
    assert.ok(denied.some((e) => e.actor.type === 'operator' && e.actor.name === 'vic' && e.outcome === 'denied'));
  });

  test('every entry of the ROUTE_ROLES table names a registered admin route and is the role it got (a renamed route cannot silently fall back to the default)', () => {
    const routes = server.app.adminRoutes;
    for (const [key, role] of Object.entries(ROUTE_ROLES)) {
      const [method, url] = key.split(' ');
      const route = routes.find((r) => r.method === method && r.url === url);
      assert.ok(route !== undefined, `${key} in ROUTE_ROLES is no admin route`);
      assert.equal(route.role, role, key);
    }
  });

  test('an operator manages agents but not providers, keys, webhooks or operators', async () => {
    const olga = await signIn(server.url, { name: 'olga', password: PASSWORDS.olga });
    const agent = await olga.call('POST', '/v1/agents', { name: 'olga-bot' });
    assert.equal(agent.status, 201, agent.text);
    assert.equal((await olga.call('PATCH', '/v1/agents/olga-bot', { policy: { rules: [] } })).status, 200);
    const refused: Array<[string, string, unknown]> = [
      ['POST', '/v1/providers', { name: 'gh', preset: 'github', clientId: 'c' }],
      ['POST', '/v1/keys/rotate', undefined],
      ['POST', '/v1/webhooks', { url: 'https://hooks.example/x', events: ['connection.needs_reauth'] }],
      ['POST', '/v1/operators', { name: 'mallory', role: 'admin', password: 'mallory-password-1' }],
      ['PATCH', '/v1/operators/olga', { role: 'admin' }],
      ['POST', '/v1/operators/alice/sign-in-links', undefined],
      ['POST', '/v1/operators/alice/keys', {}],
      ['POST', '/v1/connections/import', { name: 'c', provider: 'gh', accessToken: 't' }],
      ['POST', '/v1/audit/prune', { before: '2026-01-01T00:00:00Z' }],
      ['GET', '/v1/connections/x/token', undefined],
    ];
    for (const [method, path, body] of refused) {
      const res = await olga.call(method, path, body);
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
      assert.equal(res.body.error, 'forbidden');
    }
    assert.equal((await server.admin('GET', '/v1/operators/mallory')).status, 404);
    assert.equal(((await server.admin('GET', '/v1/operators/olga')).body as { role: string }).role, 'operator');
  });

  test('every operator action is audited under the operator name, sign-in too, and never with the password', async () => {
    const alice = await signIn(server.url, { name: 'alice', password: PASSWORDS.alice });
    const created = await alice.call('POST', '/v1/agents', { name: 'alice-bot' });
    assert.equal(created.status, 201, created.text);
    const event = (await audit(server, 'agent.create')).find((e) => e.detail.agent === 'alice-bot');
    assert.ok(event);
    assert.equal(event.actor.type, 'operator');
    assert.equal(event.actor.name, 'alice');
    assert.match(event.actor.id ?? '', /^op_/);
    const begin = (await audit(server, 'admin.request.begin')).filter((e) => e.actor.name === 'alice');
    assert.ok(begin.length > 0, 'the fail-closed begin record names the operator too');
    const signIns = await audit(server, 'operator.sign_in');
    assert.ok(signIns.some((e) => e.actor.name === 'alice' && e.outcome === 'success' && e.detail.method === 'password'));
    assert.ok(signIns.some((e) => e.actor.type === 'anonymous' && e.outcome === 'denied' && e.detail.operator === 'olga'));
    // The admin token is still the break-glass admin.
    assert.equal((await server.admin('POST', '/v1/agents', { name: 'token-bot' })).status, 201);
    assert.equal((await audit(server, 'agent.create')).find((e) => e.detail.agent === 'token-bot')?.actor.type, 'admin');
    const all = JSON.stringify(await audit(server, 'operator.create')) + JSON.stringify(signIns);
    for (const password of Object.values(PASSWORDS)) assert.ok(!all.includes(password));
  });

  test('CSRF: a cookie request without the token, with a wrong one, from a foreign Origin or as a cross-site form post is refused', async () => {
    const olga = await signIn(server.url, { name: 'olga', password: PASSWORDS.olga });
    const noToken = await raw(server.url, 'POST', '/v1/agents', { cookie: olga.cookie, origin }, { name: 'csrf-1' });
    assert.equal(noToken.status, 403);
    assert.equal(noToken.body.error, 'forbidden');
    const wrongToken = await olga.call('POST', '/v1/agents', { name: 'csrf-2' }, { 'x-latchkey-csrf': `${olga.csrfToken.slice(0, -2)}xx` });
    assert.equal(wrongToken.status, 403);
    const foreign = await olga.call('POST', '/v1/agents', { name: 'csrf-3' }, { origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error, 'forbidden');
    const form = await raw(
      server.url,
      'POST',
      '/v1/agents',
      { cookie: olga.cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      'name=csrf-4',
    );
    assert.equal(form.status, 403);
    // Even a same-site form (no custom header possible) is refused: it cannot carry the token.
    const sameSiteForm = await raw(server.url, 'POST', '/v1/agents', { cookie: olga.cookie, origin, 'sec-fetch-site': 'same-origin' }, 'name=csrf-5');
    assert.equal(sameSiteForm.status, 403);
    const agents = (await server.admin('GET', '/v1/agents')).body as Array<{ name: string }>;
    assert.deepEqual(agents.filter((a) => a.name.startsWith('csrf-')), []);
    const ok = await olga.call('POST', '/v1/agents', { name: 'csrf-ok' });
    assert.equal(ok.status, 201, ok.text);
    // Sign-in itself refuses another site's page (login CSRF).
    const login = await raw(server.url, 'POST', '/v1/sessions', { origin: 'https://evil.example' }, { name: 'olga', password: PASSWORDS.olga });
    assert.equal(login.status, 403);
  });

  test('a session ends after the idle timeout, and at its absolute end however busy', async () => {
    const idle = await signIn(server.url, { name: 'vic', password: PASSWORDS.vic });
    clock.advance(29 * 60_000);
    assert.equal((await idle.call('GET', '/v1/session')).status, 200, 'a request within the idle timeout keeps it alive');
    clock.advance(29 * 60_000);
    assert.equal((await idle.call('GET', '/v1/providers')).status, 200);
    clock.advance(31 * 60_000);
    const ended = await idle.call('GET', '/v1/providers');
    assert.equal(ended.status, 401);
    assert.equal(ended.body.error, 'unauthorized');

    const busy = await signIn(server.url, { name: 'vic', password: PASSWORDS.vic });
    for (let minutes = 0; minutes < 12 * 60 - 20; minutes += 20) {
      clock.advance(20 * 60_000);
      assert.equal((await busy.call('GET', '/v1/session')).status, 200, `after ${minutes + 20} minutes`);
    }
    clock.advance(20 * 60_000);
    assert.equal((await busy.call('GET', '/v1/session')).status, 401, 'past 12 h the session is over');
  });

  test('sign-out needs the CSRF token, clears the cookie and ends the session on the server', async () => {
    const olga = await signIn(server.url, { name: 'olga', password: PASSWORDS.olga });
    assert.equal((await raw(server.url, 'DELETE', '/v1/session', { cookie: olga.cookie, origin })).status, 403);
    const forged = await raw(server.url, 'DELETE', '/v1/session', { cookie: olga.cookie, origin, 'x-latchkey-csrf': 'not-the-token' });
    assert.equal(forged.status, 403);
    assert.equal(forged.body.error, 'forbidden');
    const out = await olga.call('DELETE', '/v1/session');
    assert.equal(out.status, 200);
    assert.deepEqual(out.body, { signedOut: true });
    assert.match([out.headers['set-cookie']].flat()[0] as string, /^__Host-lk_session=; .*Max-Age=0/);
    assert.equal((await olga.call('GET', '/v1/agents')).status, 401, 'the old cookie no longer works');
    assert.ok((await audit(server, 'operator.sign_out')).some((e) => e.actor.name === 'olga'));
  });

  test('a sign-in link works once and expires after 15 minutes', async () => {
    const made = await server.admin('POST', '/v1/operators/vic/sign-in-links');
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.headers.get('cache-control'), 'no-store');
    const { url } = made.body as { url: string; expiresAt: string };
    assert.ok(url.startsWith(`${server.config.publicUrl}/console/sign-in#token=`), url);
    const token = url.split('#token=')[1] as string;
    const session = await signIn(server.url, { signInToken: token });
    assert.equal(((await session.call('GET', '/v1/session')).body.operator as { name: string }).name, 'vic');
    const again = await raw(server.url, 'POST', '/v1/sessions', { origin }, { signInToken: token });
    assert.equal(again.status, 401, 'single use');

    const late = ((await server.admin('POST', '/v1/operators/vic/sign-in-links')).body as { url: string }).url.split('#token=')[1] as string;
    clock.advance(16 * 60_000);
    assert.equal((await raw(server.url, 'POST', '/v1/sessions', { origin }, { signInToken: late })).status, 401, 'expired');
    const events = JSON.stringify(await audit(server, 'operator.sign_in_link')) + JSON.stringify(await audit(server, 'operator.sign_in'));
    assert.ok(!events.includes(token) && !events.includes(late));
    assert.ok(!server.logs.text().includes(token) && !server.logs.text().includes(late));
  });

  test('operator API keys (lko_) authenticate with their role, are shown once, and stop working when removed', async () => {
    const made = await server.admin('POST', '/v1/operators/olga/keys', {});
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const key = made.body as { id: string; apiKey: string; role: string };
    assert.match(key.apiKey, /^lko_[A-Za-z0-9_-]{43}$/);
    assert.equal(key.role, 'operator');
    const asKey = (method: string, path: string, body?: unknown) => raw(server.url, method, path, { authorization: `Bearer ${key.apiKey}` }, body);
    assert.equal((await asKey('POST', '/v1/agents', { name: 'key-bot' })).status, 201);
    assert.equal((await asKey('POST', '/v1/providers', { name: 'gh2', preset: 'github', clientId: 'c' })).status, 403);
    const event = (await audit(server, 'agent.create')).find((e) => e.detail.agent === 'key-bot');
    assert.equal(event?.actor.name, 'olga');
    const listed = await server.admin('GET', '/v1/operators/olga/keys');
    assert.ok(!JSON.stringify(listed.body).includes(key.apiKey));
    assert.ok((listed.body as Array<{ id: string }>).some((k) => k.id === key.id));

    // A narrower key, made by its owner; a viewer key cannot change anything.
    const olga = await signIn(server.url, { name: 'olga', password: PASSWORDS.olga });
    const viewerKey = await olga.call('POST', '/v1/operators/olga/keys', { role: 'viewer' });
    assert.equal(viewerKey.status, 201, viewerKey.text);
    const narrow = viewerKey.body.apiKey as string;
    assert.equal((await raw(server.url, 'POST', '/v1/agents', { authorization: `Bearer ${narrow}` }, { name: 'nope' })).status, 403);
    assert.equal((await raw(server.url, 'GET', '/v1/agents', { authorization: `Bearer ${narrow}` })).status, 200);
    assert.equal((await olga.call('POST', '/v1/operators/olga/keys', { role: 'admin' })).status, 403, 'no key above its operator');
    assert.equal((await olga.call('POST', '/v1/operators/alice/keys', {})).status, 403, 'not another operator’s keys');
    // An admin's narrower key cannot mint a wider one, nor remove its owner's wider keys.
    const aliceWide = await server.admin('POST', '/v1/operators/alice/keys', {});
    assert.equal(aliceWide.status, 201, JSON.stringify(aliceWide.body));
    const aliceNarrow = await server.admin('POST', '/v1/operators/alice/keys', { role: 'operator' });
    assert.equal(aliceNarrow.status, 201, JSON.stringify(aliceNarrow.body));
    const narrowAuth = { authorization: `Bearer ${(aliceNarrow.body as { apiKey: string }).apiKey}` };
    assert.equal((await raw(server.url, 'POST', '/v1/operators/alice/keys', narrowAuth, { role: 'admin' })).status, 403, 'no key above the caller');
    const defaulted = await raw(server.url, 'POST', '/v1/operators/alice/keys', narrowAuth, {});
    assert.equal(defaulted.status, 201, defaulted.text);
    assert.equal((defaulted.body as { role: string }).role, 'operator', 'a default key has the caller’s role at most');
    assert.equal((await raw(server.url, 'DELETE', `/v1/operators/alice/keys/${(aliceWide.body as { id: string }).id}`, narrowAuth)).status, 403);

    assert.equal((await server.admin('DELETE', `/v1/operators/olga/keys/${key.id}`)).status, 200);
    const revoked = await asKey('GET', '/v1/agents');
    assert.equal(revoked.status, 401);
    assert.ok(!server.logs.text().includes(key.apiKey));
  });

  test('a role change applies at once; a password change ends the sessions; removal ends everything', async () => {
    await server.admin('POST', '/v1/operators', { name: 'tmp', role: 'operator', password: 'tmp-password-0001' });
    const tmp = await signIn(server.url, { name: 'tmp', password: 'tmp-password-0001' });
    assert.equal((await tmp.call('POST', '/v1/agents', { name: 'tmp-bot-1' })).status, 201);
    assert.equal((await server.admin('PATCH', '/v1/operators/tmp', { role: 'viewer' })).status, 200);
    assert.equal((await tmp.call('POST', '/v1/agents', { name: 'tmp-bot-2' })).status, 403);
    const demoted = (await audit(server, 'operator.update')).find((e) => e.detail.operator === 'tmp' && e.detail.role === 'viewer');
    assert.equal(demoted?.detail.previousRole, 'operator', 'the audit event names the role before the change');
    const weak = await server.admin('PATCH', '/v1/operators/tmp', { password: 'short' });
    assert.equal(weak.status, 400);
    const earlierLink = await server.admin('POST', '/v1/operators/tmp/sign-in-links');
    assert.equal(earlierLink.status, 201);
    const earlierToken = new URL((earlierLink.body as { url: string }).url).hash.replace('#token=', '');
    assert.equal((await server.admin('PATCH', '/v1/operators/tmp', { password: 'tmp-password-0002' })).status, 200);
    assert.equal((await tmp.call('GET', '/v1/agents')).status, 401);
    assert.equal((await raw(server.url, 'POST', '/v1/sessions', { origin }, { signInToken: earlierToken })).status, 401, 'a sign-in link from before the password change no longer works');
    const again = await signIn(server.url, { name: 'tmp', password: 'tmp-password-0002' });
    assert.equal((await server.admin('DELETE', '/v1/operators/tmp')).status, 200);
    assert.equal((await again.call('GET', '/v1/agents')).status, 401);
    assert.equal((await server.admin('DELETE', '/v1/operators/tmp')).status, 404);
    assert.equal((await server.admin('POST', '/v1/operators', { name: 'alice', role: 'viewer' })).status, 409);
    assert.equal((await server.admin('POST', '/v1/operators', { name: 'bad name', role: 'viewer' })).status, 400);
    assert.equal((await server.admin('POST', '/v1/operators', { name: 'x', role: 'root' })).status, 400);
  });

  test('an operator ends a lease (audited under their name); a viewer cannot', async () => {
    assert.equal((await server.admin('POST', '/v1/providers', { name: 'lease-api', tokenEndpoint: 'http://127.0.0.1:9/token', clientId: 'c', apiBaseUrl: 'http://127.0.0.1:9' })).status, 201);
    const expiresAt = new Date(clock.now().getTime() + 3600_000).toISOString();
    assert.equal((await server.admin('POST', '/v1/connections/import', { name: 'lease-conn', provider: 'lease-api', accessToken: 'lease-token-0123456789', expiresAt })).status, 201);
    const agent = (await server.admin('POST', '/v1/agents', { name: 'leaser', policy: { rules: [{ connections: ['lease-conn'] }], lease: { allowed: true, maxTtl: '10m' } } })).body as { apiKey: string };
    const lease = await raw(server.url, 'POST', '/v1/leases', { authorization: `Bearer ${agent.apiKey}` }, { connection: 'lease-conn', ttl: '5m' });
    assert.equal(lease.status, 201, lease.text);
    const leaseId = lease.body.leaseId as string;
    const vic = await signIn(server.url, { name: 'vic', password: PASSWORDS.vic });
    assert.equal((await vic.call('DELETE', `/v1/leases/${leaseId}`)).status, 403);
    const olga = await signIn(server.url, { name: 'olga', password: PASSWORDS.olga });
    assert.equal((await raw(server.url, 'DELETE', `/v1/leases/${leaseId}`, { cookie: olga.cookie, origin })).status, 403, 'no CSRF token');
    const ended = await olga.call('DELETE', `/v1/leases/${leaseId}`);
    assert.equal(ended.status, 200, ended.text);
    const event = (await audit(server, 'lease.revoke')).find((e) => e.actor.type === 'operator');
    assert.equal(event?.actor.name, 'olga');
  });

  test('no password, session id or CSRF token is stored in clear or logged', async () => {
    const session = await signIn(server.url, { name: 'alice', password: PASSWORDS.alice });
    const sessionId = session.cookie.split('=')[1] as string;
    const files = ['latchkey.db', 'latchkey.db-wal'].map((f) => join(server.config.dataDir, f)).filter((f) => existsSync(f));
    const stored = files.map((f) => readFileSync(f).toString('latin1')).join('');
    assert.ok(stored.includes('scrypt$'), 'the hash is there');
    for (const secret of [...Object.values(PASSWORDS), sessionId, session.csrfToken]) {
      assert.ok(!stored.includes(secret), 'not in the database file');
      assert.ok(!server.logs.text().includes(secret), 'not in the log');
    }
  });
});

describe('failed sign-ins count against the auth-failure limit', () => {
  let server: InProcess;
  before(async () => {
    server = await startInProcess({ env: { LATCHKEY_AUTH_FAILURE_LIMIT: '3' } });
    await server.admin('POST', '/v1/operators', { name: 'dora', role: 'viewer', password: 'dora-password-001' });
  });
  after(async () => server?.close());

  test('after the limit even the right password is refused with 429', async () => {
    const origin = new URL(server.url).origin;
    for (let i = 0; i < 3; i++) {
      assert.equal((await raw(server.url, 'POST', '/v1/sessions', { origin }, { name: 'dora', password: `wrong-password-${i}` })).status, 401);
    }
    const blocked = await raw(server.url, 'POST', '/v1/sessions', { origin }, { name: 'dora', password: 'dora-password-001' });
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.error, 'rate_limited');
    assert.ok(blocked.headers['retry-after']);
    // The admin token from the same source is refused too (one limit).
    assert.equal((await raw(server.url, 'GET', '/v1/providers', { authorization: `Bearer ${ADMIN}` })).status, 429);
  });
});

describe('sessions live in the database', () => {
  test('a session survives a restart of the server', async () => {
    const first = await startInProcess();
    let session: ConsoleSession;
    try {
      await first.admin('POST', '/v1/operators', { name: 'rita', role: 'operator', password: 'rita-password-001' });
      session = await signIn(first.url, { name: 'rita', password: 'rita-password-001' });
    } finally {
      await first.close();
    }
    const second = await startInProcess({ dataDir: first.config.dataDir });
    try {
      const res = await raw(second.url, 'GET', '/v1/session', { cookie: session.cookie });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.csrfToken, session.csrfToken, 'the CSRF token is derived, so it is the same after a restart');
    } finally {
      await second.close();
    }
  });
});
