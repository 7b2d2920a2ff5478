import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, startLatchkey } from './helpers/latchkey-process.js';

test('a user runs `npx latchkey serve`, adds a provider from a preset, imports a connection and lists it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-cli-'));
  const server = await startLatchkey({ dataDir, adminToken: null, viaNpx: true });
  const refreshToken = `rt-${randomBytes(8).toString('hex')}`;
  const clientSecret = `cs-${randomBytes(8).toString('hex')}`;
  try {
    assert.match(server.output(), /Admin token \(shown once/);
    assert.match(server.adminToken, /^lka_/);
    // Only the token's hash is kept: a copy of the data directory does not give the admin token away.
    assert.ok(!readdirSync(dataDir).includes('admin-token'));
    assert.equal(readFileSync(join(dataDir, 'admin-token.sha256'), 'utf8').trim(), createHash('sha256').update(server.adminToken).digest('hex'));
    for (const file of ['admin-token.sha256', 'master.key', 'latchkey.db']) {
      assert.equal(statSync(join(dataDir, file)).mode & 0o777, 0o600, `${file} is private to its owner`);
    }
    const noToken = await runCli(['providers', 'list'], { LATCHKEY_URL: server.url, LATCHKEY_DATA_DIR: dataDir });
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /LATCHKEY_ADMIN_TOKEN/);
    // The user keeps the printed token in LATCHKEY_ADMIN_TOKEN, as the banner says.
    const env = { LATCHKEY_URL: server.url, LATCHKEY_DATA_DIR: dataDir, LATCHKEY_ADMIN_TOKEN: server.adminToken };

    const added = await runCli(
      ['providers', 'add', 'github', '--preset', 'github', '--client-id', 'Iv1.test', '--client-secret-stdin'],
      env,
      `${clientSecret}\n`,
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /provider github registered/);

    const shown = await runCli(['providers', 'show', 'github', '--json'], env);
    assert.equal(shown.code, 0, shown.stderr);
    const provider = JSON.parse(shown.stdout) as Record<string, unknown>;
    assert.equal(provider.tokenEndpoint, 'https://github.com/login/oauth/access_token');
    assert.equal(provider.hasClientSecret, true);
    assert.ok(!shown.stdout.includes(clientSecret));

    // --no-verify: these tokens are made up, and the refresh that would check them goes to github.com.
    const imported = await runCli(
      ['secrets', 'create', '--name', 'github-alice', '--provider', 'github', '--value-stdin', '--no-verify'],
      env,
      JSON.stringify({ refreshToken, accessToken: 'gho_x' }),
    );
    assert.equal(imported.code, 0, imported.stderr);
    assert.doesNotMatch(imported.stderr, /warning/);

    // Salesforce tokens come with the org's instance URL, which becomes the connection's API base.
    const salesforce = await runCli(
      [
        'secrets',
        'create',
        '--name',
        'sf-acme',
        '--provider',
        'salesforce',
        '--no-verify',
        '--value',
        JSON.stringify({ clientId: '3MVG9.test', refreshToken: `${refreshToken}-sf`, accessToken: 'sf_x', instanceUrl: 'https://acme.my.salesforce.com' }),
      ],
      env,
    );
    assert.equal(salesforce.code, 0, salesforce.stderr);
    assert.match(salesforce.stderr, /--value puts the tokens in your shell history/);
    const sfShown = await runCli(['connections', 'show', 'sf-acme'], env);
    assert.equal(sfShown.code, 0, sfShown.stderr);
    assert.match(sfShown.stdout, /api base\s+https:\/\/acme\.my\.salesforce\.com\n/);

    const listed = await runCli(['connections', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME\s+PROVIDER/m);
    assert.match(listed.stdout, /github-alice\s+github\s+default\s+-\s+active/);

    const json = await runCli(['connections', 'list', '--json', '--provider', 'github'], env);
    const connections = JSON.parse(json.stdout) as Array<{ name: string; status: string; grantType: string }>;
    assert.deepEqual(
      connections.map((c) => [c.name, c.status, c.grantType]),
      [['github-alice', 'active', 'imported']],
    );

    const duplicate = await runCli(['providers', 'add', 'github', '--preset', 'github'], env);
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, /already exists/);

    const unknownPreset = await runCli(['providers', 'add', 'x', '--preset', 'nope'], env);
    assert.equal(unknownPreset.code, 1);
    assert.match(unknownPreset.stderr, /no preset "nope"/);

    const usage = await runCli(['connections', 'frobnicate'], env);
    assert.equal(usage.code, 2);

    const badJson = await runCli(['secrets', 'create', '--name', 'x', '--value', '{nope'], env);
    assert.equal(badJson.code, 2);
    assert.match(badJson.stderr, /must be a JSON object/);

    assert.ok(!server.output().includes(refreshToken), 'refresh token in server output');
    assert.ok(!server.output().includes(clientSecret), 'client secret in server output');
  } finally {
    await server.stop();
  }
  // A second start does not print the admin token again.
  const again = await startLatchkey({ dataDir, adminToken: null });
  try {
    assert.doesNotMatch(again.output(), /Admin token/);
  } finally {
    await again.stop();
  }
});

test('starting with the wrong master key exits non-zero, says so, and leaves the database byte-for-byte unchanged', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-wrongkey-'));
  const first = await startLatchkey({ dataDir, env: { LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64') } });
  const add = await runCli(['providers', 'add', 'gitlab', '--preset', 'gitlab', '--client-id', 'a', '--client-secret', 'b'], {
    LATCHKEY_URL: first.url,
    LATCHKEY_ADMIN_TOKEN: first.adminToken,
  });
  assert.equal(add.code, 0, add.stderr);
  await first.stop();

  // Every file, the audit checkpoints' directory included.
  const snapshot = (): Map<string, Buffer> =>
    new Map(
      readdirSync(dataDir, { recursive: true, encoding: 'utf8' })
        .filter((f) => statSync(join(dataDir, f)).isFile())
        .map((f) => [f, readFileSync(join(dataDir, f))] as const),
    );
  const before = snapshot();

  const result = await runCli(['serve', '--port', '0'], {
    LATCHKEY_DATA_DIR: dataDir,
    LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64'),
  });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /master key does not match/);
  const after = snapshot();
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
  for (const [file, bytes] of before) assert.ok(bytes.equals(after.get(file) as Buffer), `${file} changed`);
});

test('an invalid setting stops serve with a message naming it', async () => {
  const result = await runCli(['serve', '--port', 'abc'], { LATCHKEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'lk-')) });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--port \/ LATCHKEY_PORT/);
  const key = await runCli(['serve'], { LATCHKEY_MASTER_KEY: 'short', LATCHKEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'lk-')) });
  assert.equal(key.code, 2);
  assert.match(key.stderr, /LATCHKEY_MASTER_KEY/);
  const retention = await runCli(['serve'], { LATCHKEY_AUDIT_RETENTION: '12h', LATCHKEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'lk-')) });
  assert.equal(retention.code, 2);
  assert.match(retention.stderr, /LATCHKEY_AUDIT_RETENTION: "12h" is not a duration of at least a day/);
});
