import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createAgent, importTokens, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The package's subpath exports, pointed at the sources (the examples import them as a user would). */
const IMPORTS: Record<string, string> = {
  'latchkey/sdk': join(ROOT, 'src/sdk/index.ts'),
  'latchkey/ai': join(ROOT, 'src/sdk/ai.ts'),
  'latchkey/langchain': join(ROOT, 'src/sdk/langchain.ts'),
};

interface Example {
  code: string;
  expected: string | undefined;
  line: number;
}

/** Each ```ts block of docs/sdk.md with the ```text block right after it, if any. */
function examples(markdown: string): Example[] {
  const found: Example[] = [];
  const block = /```(\w+)\n([\s\S]*?)```/g;
  const blocks = [...markdown.matchAll(block)].map((m) => ({ lang: m[1], body: m[2] as string, index: m.index, end: m.index + m[0].length }));
  blocks.forEach((b, i) => {
    if (b.lang !== 'ts') return;
    const next = blocks[i + 1];
    const between = next === undefined ? '' : markdown.slice(b.end, next.index);
    found.push({
      code: b.body,
      expected: next?.lang === 'text' && between.trim() === '' ? next.body : undefined,
      line: markdown.slice(0, b.index).split('\n').length,
    });
  });
  return found;
}

function run(file: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

describe('docs/sdk.md: every example runs against a real server and prints what the page says', () => {
  let lk: InProcess;
  let api: FakeApi;
  let agentKey = '';
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-sdk-docs-'));
  const markdown = readFileSync(join(ROOT, 'docs/sdk.md'), 'utf8');

  before(async () => {
    api = await startFakeApi((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, url: req.url }));
    });
    lk = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' } });
    const provider = await lk.admin('POST', '/v1/providers', {
      name: 'tracker',
      authorizationEndpoint: `${api.url}/authorize`,
      tokenEndpoint: `${api.url}/token`,
      clientId: 'c',
      apiBaseUrl: api.url,
      capabilities: [
        { name: 'issues.read', description: 'read issues', methods: ['GET'], pathPrefixes: ['/issues'] },
        { name: 'issues.write', description: 'file an issue', methods: ['POST'], pathPrefixes: ['/issues'] },
      ],
    });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    for (const name of ['work', 'other', 'backup']) await importTokens(lk, { name, provider: 'tracker', accessToken: `at-${name}-docs`, expiresAt });
    agentKey = (await createAgent(lk, { name: 'helper', policy: { rules: [{ connections: ['work'], capabilities: ['issues.read', 'issues.write'] }] } })).apiKey;
  });

  after(async () => {
    await lk?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the page has examples, each with the output it shows', () => {
    const found = examples(markdown);
    assert.ok(found.length >= 6, `${found.length} examples`);
    for (const e of found) assert.ok(e.expected !== undefined, `the example at docs/sdk.md:${e.line} is followed by its output`);
  });

  test('each example runs and prints its output', async () => {
    for (const [i, e] of examples(markdown).entries()) {
      let code = e.code;
      for (const [name, path] of Object.entries(IMPORTS)) code = code.replaceAll(`'${name}'`, JSON.stringify(path));
      // .mts: an ES module (top-level await) wherever the file is.
      const file = join(dir, `example-${i}.mts`);
      writeFileSync(file, code);
      const result = await run(file, { LATCHKEY_URL: lk.url, LATCHKEY_ADMIN_TOKEN: ADMIN, LATCHKEY_AGENT_KEY: agentKey });
      assert.equal(result.code, 0, `docs/sdk.md:${e.line} failed:\n${result.stderr}`);
      for (const line of (e.expected ?? '').split('\n').filter((l) => l.trim() !== '')) {
        assert.ok(result.stdout.includes(line), `docs/sdk.md:${e.line} should print "${line}"; printed:\n${result.stdout}`);
      }
    }
  });
});
