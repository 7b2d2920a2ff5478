import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { CLI_PATH, REPO_ROOT } from './helpers/latchkey-process.js';
import { COMMANDS, VERSION, buildProgram, commandWord } from '../src/cli/registry.js';

/**
 * The modules a CLI run loaded, recorded by a module `load` hook (it runs on
 * the hooks thread, so it appends to a file rather than posting messages that
 * could be lost at exit).
 */
function loadedBy(args: string[], env: Record<string, string> = {}): { status: number | null; modules: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-lazy-'));
  const out = join(dir, 'loaded.txt');
  writeFileSync(out, '');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    "import { appendFileSync } from 'node:fs';\n" +
      'export async function load(url, context, next) { appendFileSync(process.env.LOADED_OUT, url + "\\n"); return next(url, context); }\n',
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
  );
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, CLI_PATH, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: dir, LOADED_OUT: out, ...env },
    encoding: 'utf8',
  });
  return { status: result.status, modules: readFileSync(out, 'utf8').split('\n').filter(Boolean) };
}

const HEAVY = [/\/dist\/server\//, /\/dist\/store\//, /\/dist\/latchkey\.js$/, /\/dist\/providers\//, /\/dist\/mcp\//, /\/node_modules\/(kysely|openid-client|pino|fastify|better-sqlite3|pg|@modelcontextprotocol|undici|zod)\//];

test('`latchkey --version` loads no command module and nothing heavy', () => {
  const { status, modules } = loadedBy(['--version']);
  assert.equal(status, 0);
  assert.ok(modules.some((m) => m.endsWith('/dist/cli/main.js')), 'the hook sees the modules loaded');
  assert.deepEqual(modules.filter((m) => /\/dist\/cli\/commands\//.test(m)), []);
  assert.deepEqual(modules.filter((m) => HEAVY.some((h) => h.test(m))), []);
});

test('a client command loads only its own command module and neither the server nor its libraries', () => {
  // No server listens there: the command fails after loading everything it would use.
  const { status, modules } = loadedBy(['connections', 'list'], { LATCHKEY_URL: 'http://127.0.0.1:9', LATCHKEY_ADMIN_TOKEN: 'lka_test_admin_token_0123456789' });
  assert.equal(status, 1);
  assert.deepEqual(
    modules.filter((m) => /\/dist\/cli\/commands\//.test(m)).map((m) => m.replace(/.*\/dist\//, '')),
    ['cli/commands/connections.js'],
  );
  assert.deepEqual(modules.filter((m) => HEAVY.some((h) => h.test(m))), []);
});

test('every command module registers exactly the top-level names its registry entry declares', async () => {
  for (const entry of COMMANDS) {
    const program = await buildProgram([entry.names[0] as string]);
    const registered = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    assert.deepEqual(registered.sort(), [...entry.names].sort(), `registry entry ${entry.names.join(',')}`);
  }
  const all = await buildProgram([], { all: true });
  const names = all.commands.map((c) => c.name());
  assert.equal(new Set(names).size, names.length, 'no two modules register the same command');
});

test('the command word skips the global options wherever they are', () => {
  assert.equal(commandWord(['--json', '--url', 'http://x', 'connections', 'list']), 'connections');
  assert.equal(commandWord(['--url=http://x', 'status']), 'status');
  assert.equal(commandWord(['--version']), undefined);
});

test('the CLI reports the package version', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
});
