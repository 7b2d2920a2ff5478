import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config/index.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { signIn } from './helpers/operators.js';

describe('CLI: operators', () => {
  let lk: InProcess;
  let env: Record<string, string>;

  before(async () => {
    lk = await startInProcess();
    env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
  });
  after(async () => lk?.close());

  test('add with a password from stdin, list, show, update, sign-in link, remove', async () => {
    const password = 'cli-operator-password-1';
    const added = await runCli(['operators', 'add', 'carol', '--role', 'viewer', '--password-stdin'], env, `${password}\n`);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /carol added with the role viewer/);
    assert.ok(!added.stdout.includes('sign-in link'));
    const session = await signIn(lk.url, { name: 'carol', password });
    assert.equal((await session.call('GET', '/v1/session')).status, 200);

    const listed = await runCli(['operators', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /carol\s+viewer\s+set/);
    const json = await runCli(['--json', 'operators', 'show', 'carol'], env);
    assert.equal(JSON.parse(json.stdout).role, 'viewer');

    const updated = await runCli(['operators', 'update', 'carol', '--role', 'operator'], env);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(((await lk.admin('GET', '/v1/operators/carol')).body as { role: string }).role, 'operator');
    const badRole = await runCli(['operators', 'update', 'carol', '--role', 'root'], env);
    assert.equal(badRole.code, 2);
    const nothing = await runCli(['operators', 'update', 'carol'], env);
    assert.equal(nothing.code, 2);

    const link = await runCli(['operators', 'sign-in-link', 'carol'], env);
    assert.equal(link.code, 0, link.stderr);
    const url = /(http\S+#token=[A-Za-z0-9_-]+)/.exec(link.stdout)?.[1];
    assert.ok(url, link.stdout);
    await signIn(lk.url, { signInToken: url.split('#token=')[1] as string });

    const removed = await runCli(['operators', 'remove', 'carol'], env);
    assert.equal(removed.code, 0, removed.stderr);
    const gone = await runCli(['--json', 'operators', 'show', 'carol'], env);
    assert.equal(gone.code, 1);
    assert.equal(JSON.parse(gone.stderr).error, 'not_found');
  });

  test('add without a password prints a one-time sign-in link', async () => {
    const added = await runCli(['operators', 'add', 'dan', '--role', 'operator'], env);
    assert.equal(added.code, 0, added.stderr);
    const token = /#token=([A-Za-z0-9_-]+)/.exec(added.stdout)?.[1];
    assert.ok(token, added.stdout);
    const session = await signIn(lk.url, { signInToken: token });
    assert.equal((await session.call('POST', '/v1/agents', { name: 'dan-bot' })).status, 201);
  });

  test('operator keys: created once, used by the CLI as LATCHKEY_ADMIN_TOKEN with the operator role, removed', async () => {
    await lk.admin('POST', '/v1/operators', { name: 'erin', role: 'operator', password: 'erin-password-0001' });
    const created = await runCli(['operators', 'keys', 'create', 'erin'], env);
    assert.equal(created.code, 0, created.stderr);
    const key = /(lko_[A-Za-z0-9_-]{43})/.exec(created.stdout)?.[1];
    assert.ok(key, created.stdout);
    const keyId = /key (opk_[a-z0-9]+)/.exec(created.stdout)?.[1] as string;

    const asErin = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: key };
    const agent = await runCli(['agents', 'create', 'erin-bot'], asErin);
    assert.equal(agent.code, 0, agent.stderr);
    const refused = await runCli(['--json', 'providers', 'add', 'gh', '--preset', 'github', '--client-id', 'c'], asErin);
    assert.equal(refused.code, 1);
    assert.equal(JSON.parse(refused.stderr).error, 'forbidden');

    const listed = await runCli(['operators', 'keys', 'list', 'erin'], env);
    assert.match(listed.stdout, new RegExp(keyId));
    assert.ok(!listed.stdout.includes(key));
    const removed = await runCli(['operators', 'keys', 'remove', 'erin', keyId], env);
    assert.equal(removed.code, 0, removed.stderr);
    const stale = await runCli(['--json', 'agents', 'list'], asErin);
    assert.equal(stale.code, 1);
    assert.equal(JSON.parse(stale.stderr).error, 'unauthorized');
  });

  test('serve refuses an operator key as its admin token', () => {
    assert.throws(() => loadConfig({}, { LATCHKEY_ADMIN_TOKEN: `lko_${'a'.repeat(43)}` }), /operator API key/);
  });
});
