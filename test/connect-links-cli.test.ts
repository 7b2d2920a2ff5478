import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { goneKind, openConnectPage } from './helpers/connect-link.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { runCli } from './helpers/latchkey-process.js';
import { addFixtureProvider } from './helpers/oauth-flows.js';

describe('CLI: connect-link, connect-links list | remove', () => {
  let as: AuthorizationServer;
  let lk: InProcess;
  let env: Record<string, string>;

  before(async () => {
    as = await startAuthorizationServer();
    lk = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' } });
    await addFixtureProvider(lk, as);
    env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
  });

  after(async () => {
    await lk?.close();
    await as?.close();
  });

  test('makes a link, lists it without its URL, removes it', async () => {
    const made = await runCli(['connect-link', 'fixture', '--subject', 'alice', '--name', 'cli-alice', '--scope', 'openid', '--expires', '2d'], env);
    assert.equal(made.code, 0, made.stderr);
    const url = new RegExp(`(${lk.url}/connect/[A-Za-z0-9_-]{43})`).exec(made.stdout)?.[1];
    assert.ok(url, made.stdout);
    assert.match((await openConnectPage(url)).body, /cli-alice/);

    const json = await runCli(['--json', 'connect-link', 'fixture', '--subject', 'bob'], env);
    assert.equal(json.code, 0, json.stderr);
    const second = JSON.parse(json.stdout) as { id: string; url: string; expiresAt: string };
    assert.match(second.id, /^cl_/);

    const listed = await runCli(['connect-links', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /cli-alice/);
    assert.match(listed.stdout, /open/);
    assert.ok(!listed.stdout.includes(url) && !listed.stdout.includes(second.url), 'no link URL in the list');

    const id = /connect link (cl_\S+)/.exec(made.stdout)?.[1] ?? '';
    const removed = await runCli(['connect-links', 'remove', id], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(goneKind((await openConnectPage(url)).body), 'unknown');
  });

  test('reconnect with --connection; usage errors exit 2; API refusals exit 1 with the error object under --json', async () => {
    const imported = await lk.admin('POST', '/v1/connections/import', { name: 'cli-old', provider: 'fixture', accessToken: 'cli-old-access-token-0123456789' });
    assert.equal(imported.status, 201);
    const reconnect = await runCli(['--json', 'connect-link', '--connection', 'cli-old', '--expires', '1h'], env);
    assert.equal(reconnect.code, 0, reconnect.stderr);
    const link = JSON.parse(reconnect.stdout) as { url: string };
    assert.match((await openConnectPage(link.url)).body, /Reconnect your/);

    assert.equal((await runCli(['connect-link', 'fixture'], env)).code, 2, 'no --subject');
    assert.equal((await runCli(['connect-link'], env)).code, 2, 'neither provider nor --connection');
    assert.equal((await runCli(['connect-link', 'fixture', '--subject', 's', '--connection', 'cli-old'], env)).code, 2);
    const refused = await runCli(['--json', 'connect-link', 'fixture', '--subject', 's', '--expires', '90d'], env);
    assert.equal(refused.code, 1);
    assert.equal((JSON.parse(refused.stderr) as { error: string }).error, 'invalid_request');
  });
});
