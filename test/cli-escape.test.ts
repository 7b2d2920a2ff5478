import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { createAgent, importTokens, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { runCli } from './helpers/latchkey-process.js';

// A name that, printed raw, ends its row, prints a forged one in red and hides the rest behind a bidi override.
const FORGED = 'x\n2026-01-01T00:00:00.000Z  admin  agent.create  prod  success  201  forged\u001b[31m\u009b2J\u202eevil';
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('human CLI output escapes control characters; --json stays JSON', () => {
  let lk: InProcess;
  let api: FakeApi;
  let env: Record<string, string>;

  before(async () => {
    lk = await startInProcess();
    env = { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN };
    // The API now refuses such names at the edge, so the record is made the way an older server (or a bug) could have.
    await lk.core.audit.record({ actor: { type: 'agent', id: 'agt_x', name: 'mallory\u001b]0;pwned\u0007' }, action: 'auth.denied', connection: FORGED, outcome: 'denied', detail: { reason: 'not_found\r\u001b[1A' } });
    api = await startFakeApi((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('line one\n\u001b[2Jline two\u009b31m\n'));
    assert.equal((await lk.admin('POST', '/v1/providers', { name: 'text', tokenEndpoint: `${api.url}/token`, apiBaseUrl: api.url })).status, 201);
    await importTokens(lk, { name: 'text', provider: 'text', accessToken: 'cli-escape-token-0123456789' });
  });
  after(async () => {
    await lk?.close();
    await api?.close();
  });

  test('`latchkey audit` prints the forged name escaped, inside its own row', async () => {
    const events = (await lk.admin('GET', '/v1/audit')).body as unknown[];
    const out = await runCli(['audit'], env);
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(out.stdout, RAW_CONTROL);
    const lines = out.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 1 + events.length, 'one line per event, no forged row');
    const row = lines.find((l) => l.includes('mallory'));
    assert.ok(row);
    assert.ok(row.includes('x\\n2026-01-01T00:00:00.000Z  admin  agent.create'), row);
    assert.ok(row.includes('\\u001b[31m\\u009b2J\\u202eevil'), row);
    assert.ok(row.includes('mallory\\u001b]0;pwned\\u0007'), row);
    assert.ok(row.includes('not_found\\r\\u001b[1A'), row);
  });

  test('`latchkey audit --json` keeps the value exact (JSON escapes it)', async () => {
    const out = await runCli(['--json', 'audit'], env);
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(out.stdout, RAW_CONTROL);
    const events = JSON.parse(out.stdout) as Array<{ connection: string | null }>;
    assert.ok(events.some((e) => e.connection === FORGED));
  });

  test('`latchkey invoke` shows an upstream body with its lines but no raw escape sequence', async () => {
    const agent = await createAgent(lk, { name: 'texter', policy: { rules: [{ connections: ['text'] }] } });
    const out = await runCli(['invoke', 'text', 'GET', '/page'], { LATCHKEY_URL: lk.url, LATCHKEY_AGENT_KEY: agent.apiKey });
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(out.stdout, RAW_CONTROL);
    assert.equal(out.stdout, 'line one\n\\u001b[2Jline two\\u009b31m\n');
  });
});
