import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { ManualClock } from '../src/clock.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { PG_SKIP, createTestDatabase, type TestDatabase } from './helpers/pg.js';
import { raw, signIn } from './helpers/operators.js';

/** Two replicas on one PostgreSQL: sessions, sign-in links and operator keys live in the database, not in a process. */
describe('operators across replicas on one PostgreSQL', { skip: PG_SKIP }, () => {
  let db: TestDatabase;
  let a: InProcess;
  let b: InProcess;
  const clock = new ManualClock(Date.parse('2026-03-01T09:00:00Z'));
  const password = 'pg-operator-password-1';

  before(async () => {
    db = await createTestDatabase();
    const env = { LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64'), LATCHKEY_REFRESHER_INTERVAL: '0', LATCHKEY_SESSION_IDLE_TIMEOUT: '10m' };
    a = await startInProcess({ databaseUrl: db.url, env, clock });
    b = await startInProcess({ databaseUrl: db.url, env, clock });
    assert.equal((await a.admin('POST', '/v1/operators', { name: 'pia', role: 'operator', password })).status, 201);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  test('a session made on one replica works on the other, and a sign-out on either ends it on both', async () => {
    const session = await signIn(a.url, { name: 'pia', password });
    const onB = await raw(b.url, 'GET', '/v1/session', { cookie: session.cookie });
    assert.equal(onB.status, 200, onB.text);
    assert.equal(onB.body.csrfToken, session.csrfToken, 'the CSRF token derives from the shared master key');
    const created = await raw(b.url, 'POST', '/v1/agents', { cookie: session.cookie, 'x-latchkey-csrf': session.csrfToken, origin: new URL(b.url).origin }, { name: 'pg-bot' });
    assert.equal(created.status, 201, created.text);
    const out = await raw(b.url, 'DELETE', '/v1/session', { cookie: session.cookie, 'x-latchkey-csrf': session.csrfToken });
    assert.equal(out.status, 200);
    assert.equal((await raw(a.url, 'GET', '/v1/session', { cookie: session.cookie })).status, 401);
  });

  test('idle expiry is read from the database on every replica', async () => {
    const session = await signIn(a.url, { name: 'pia', password });
    clock.advance(9 * 60_000);
    assert.equal((await raw(b.url, 'GET', '/v1/session', { cookie: session.cookie })).status, 200);
    clock.advance(9 * 60_000);
    assert.equal((await raw(a.url, 'GET', '/v1/session', { cookie: session.cookie })).status, 200, 'kept alive by the request on the other replica');
    clock.advance(11 * 60_000);
    assert.equal((await raw(b.url, 'GET', '/v1/session', { cookie: session.cookie })).status, 401);
  });

  test('a sign-in link raced on both replicas signs in exactly once', async () => {
    const { url } = (await a.admin('POST', '/v1/operators/pia/sign-in-links')).body as { url: string };
    const signInToken = url.split('#token=')[1] as string;
    const answers = await Promise.all(
      [a, b, a, b].map((s) => raw(s.url, 'POST', '/v1/sessions', { origin: new URL(s.url).origin }, { signInToken })),
    );
    assert.deepEqual(answers.map((r) => r.status).sort(), [201, 401, 401, 401]);
  });

  test('an operator key removed on one replica stops at once on the other; nothing secret is stored in clear', async () => {
    const made = (await a.admin('POST', '/v1/operators/pia/keys', {})).body as { id: string; apiKey: string };
    assert.equal((await raw(b.url, 'GET', '/v1/agents', { authorization: `Bearer ${made.apiKey}` })).status, 200);
    assert.equal((await b.admin('DELETE', `/v1/operators/pia/keys/${made.id}`)).status, 200);
    assert.equal((await raw(a.url, 'GET', '/v1/agents', { authorization: `Bearer ${made.apiKey}` })).status, 401);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const tables = ['operators', 'operator_sessions', 'operator_sign_in_links', 'operator_keys'];
      const dump = (await Promise.all(tables.map(async (t) => JSON.stringify((await client.query(`select * from ${t}`)).rows)))).join('');
      assert.match(dump, /scrypt\$32768\$8\$1\$/);
      assert.ok(!dump.includes(password));
      assert.ok(!dump.includes(made.apiKey));
    } finally {
      await client.end();
    }
  });
});
