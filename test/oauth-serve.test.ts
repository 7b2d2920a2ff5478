import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { Keyring } from '../src/crypto/index.js';
import { openStore } from '../src/store/index.js';
import { openTokens } from '../src/tokens/index.js';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { CLI_PATH, REPO_ROOT, TEST_ADMIN_TOKEN, runCli, startLatchkey, type LatchkeyProcess } from './helpers/latchkey-process.js';
import {
  BACKENDS,
  FIXTURE_SCOPES,
  addFixtureProvider,
  assertNoSecrets,
  callResource,
  eventually,
  getConnection,
  openLink,
  visit,
} from './helpers/oauth-flows.js';

type Admin = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

function adminOf(proc: LatchkeyProcess): Admin {
  return async (method, path, body) => {
    const res = await fetch(proc.url + path, {
      method,
      headers: {
        authorization: `Bearer ${proc.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };
}

// A `connect` left waiting by a failed test would hold this file's event loop, and the whole run, open.
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** `latchkey connect ...` running in the background, its output readable while it waits. */
function startCli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('close', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  return { stdout: () => stdout, stderr: () => stderr, exited, kill: () => child.kill('SIGKILL') };
}

for (const backend of BACKENDS) {
  describe(`consent flows through the real \`latchkey serve\` (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let proc: LatchkeyProcess;
    let admin: Admin;
    let databaseUrl: string | undefined;
    let drop: () => Promise<void>;
    const masterKey = randomBytes(32).toString('base64');
    const secrets: string[] = [];
    const cliEnv = (): Record<string, string> => ({ LATCHKEY_URL: proc.url, LATCHKEY_ADMIN_TOKEN: TEST_ADMIN_TOKEN });

    before(async () => {
      as = await startAuthorizationServer();
      const db = await backend.open();
      databaseUrl = db.databaseUrl;
      drop = db.drop;
      proc = await startLatchkey({
        env: {
          LATCHKEY_ALLOW_HTTP_LOOPBACK: '1',
          LATCHKEY_MASTER_KEY: masterKey,
          ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
        },
      });
      admin = adminOf(proc);
      await addFixtureProvider({ admin }, as);
    });

    after(async () => {
      await proc.stop();
      assertNoSecrets(proc.output(), [...secrets, as.confidentialClient.clientSecret, masterKey], 'latchkey serve output');
      await as.close();
      await drop();
    });

    test('authorization code + PKCE: the connection becomes active and its sealed tokens work at the resource', async () => {
      const started = await admin('POST', '/v1/connect/fixture', { name: 'serve-alice' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const { connectionId, authorizationUrl } = started.body as { connectionId: string; authorizationUrl: string };
      const providerUrl = await openLink(authorizationUrl);
      assert.equal(new URL(providerUrl).searchParams.get('redirect_uri'), `${proc.url}/oauth/callback`);
      const location = await as.approve(providerUrl);
      secrets.push(new URL(location).searchParams.get('code') ?? '');
      const page = await visit(location);
      assert.equal(page.status, 200, page.body);

      const connection = await getConnection({ admin }, connectionId);
      assert.equal(connection.status, 'active');
      assert.deepEqual([...connection.scopes].sort(), [...FIXTURE_SCOPES].sort());
      const expiresIn = new Date(connection.expiresAt ?? 0).getTime() - Date.now();
      assert.ok(expiresIn > 3500_000 && expiresIn <= 3600_000, `expires in ${expiresIn} ms`);

      // Read the tokens as an operator with the master key would, from the database the server writes.
      const store = await openStore({ dataDir: proc.dataDir, databaseUrl });
      try {
        const keyring = await Keyring.load(Buffer.from(masterKey, 'base64'), store.keys);
        const row = await store.connections.findById(connectionId);
        const tokens = await openTokens(keyring, connectionId, row?.tokens ?? null);
        assert.ok(tokens.accessToken && tokens.refreshToken && tokens.idToken);
        secrets.push(tokens.accessToken, tokens.refreshToken, tokens.idToken);
        const resource = await callResource(as, tokens.accessToken);
        assert.equal(resource.status, 200);
        assert.equal((resource.body as { sub: string }).sub, 'test-user');
      } finally {
        await store.close();
      }
    });

    test('`latchkey connect` prints the URL and waits until the connection is active', async () => {
      const cli = startCli(['connect', 'fixture', '--name', 'cli-bob', '--no-browser'], cliEnv());
      const url = await eventually(async () => /(http:\/\/127\.0\.0\.1:\d+\/oauth\/start\/\S+)/.exec(cli.stdout())?.[1]);
      const location = await as.approve(await openLink(url), { accountId: 'bob' });
      secrets.push(new URL(location).searchParams.get('code') ?? '');
      assert.equal((await visit(location)).status, 200);
      assert.equal(await cli.exited, 0, cli.stderr());
      assert.match(cli.stdout(), /connection cli-bob is active/);
    });

    test('`latchkey connect` exits 1 with the reason when consent is denied', async () => {
      const cli = startCli(['connect', 'fixture', '--name', 'cli-denied', '--no-browser'], cliEnv());
      const url = await eventually(async () => /(http:\/\/127\.0\.0\.1:\d+\/oauth\/start\/\S+)/.exec(cli.stdout())?.[1]);
      assert.equal((await visit(await as.approve(await openLink(url), { deny: true }))).status, 400);
      assert.equal(await cli.exited, 1);
      assert.match(cli.stderr(), /access_denied/);
    });

    test('`latchkey connect --device` prints the user code and waits', async () => {
      const cli = startCli(['connect', 'fixture', '--device', '--name', 'cli-tv', '--scope', 'api:read', '--json'], cliEnv());
      const userCode = await eventually(async () => /enter the code:\s+(\S+)/.exec(cli.stderr())?.[1]);
      assert.match(cli.stderr(), new RegExp(`open ${as.issuer}/device`));
      await as.approveDevice(userCode);
      assert.equal(await cli.exited, 0, cli.stderr());
      const connection = JSON.parse(cli.stdout()) as { name: string; status: string; scopes: string[] };
      assert.equal(connection.status, 'active');
      assert.deepEqual(connection.scopes, ['api:read']);
    });
  });
}

describe('latchkey oauth setup (no server)', () => {
  test('prints a consent URL with S256 PKCE and state, and the verifier that matches it', async () => {
    const result = await runCli(['oauth', 'setup', '--provider', 'github', '--client-id', 'Iv1.abc', '--redirect-uri', 'http://127.0.0.1:8787/cb', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as { authorizationUrl: string; state: string; codeVerifier: string };
    const url = new URL(out.authorizationUrl);
    assert.equal(url.origin + url.pathname, 'https://github.com/login/oauth/authorize');
    assert.equal(url.searchParams.get('client_id'), 'Iv1.abc');
    assert.equal(url.searchParams.get('redirect_uri'), 'http://127.0.0.1:8787/cb');
    assert.equal(url.searchParams.get('scope'), 'repo read:user notifications');
    assert.equal(url.searchParams.get('state'), out.state);
    assert.ok(out.state.length >= 22);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    const challenge = createHash('sha256').update(out.codeVerifier).digest('base64url');
    assert.equal(url.searchParams.get('code_challenge'), challenge);
  });

  test('human output names the verifier; a given state is used; no preset means --auth-url is needed', async () => {
    const result = await runCli([
      'oauth', 'setup', '--provider', 'acme', '--auth-url', 'https://id.acme.example/authorize', '--client-id', 'c1',
      '--redirect-uri', 'https://app.example/cb', '--scope', 'read', '--scope', 'write', '--state', 'my-state-123',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const url = new URL(/(https:\/\/id\.acme\.example\/authorize\?\S+)/.exec(result.stdout)?.[1] ?? '');
    assert.equal(url.searchParams.get('scope'), 'read write');
    assert.equal(url.searchParams.get('state'), 'my-state-123');
    const verifier = /code verifier\s+(\S+)/.exec(result.stdout)?.[1] ?? '';
    assert.equal(url.searchParams.get('code_challenge'), createHash('sha256').update(verifier).digest('base64url'));

    const missing = await runCli(['oauth', 'setup', '--provider', 'acme', '--client-id', 'c1', '--redirect-uri', 'https://app.example/cb']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--auth-url is required/);
  });
});
