import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from './helpers/latchkey-process.js';

const run = promisify(execFile);

/**
 * Issue 14 item 8: `npm pack` makes a package that installs and runs
 * `latchkey serve` from the tarball, outside the checkout.
 *
 * The install is global into a temp prefix, from npm's cache (`npm ci` fills
 * it; --prefer-offline asks the registry only for what is missing). Install
 * scripts are skipped: the only one that matters is better-sqlite3's native
 * build, which compiles SQLite for minutes when no prebuilt binary can be
 * downloaded; the checkout's own build of the same version is copied in
 * instead (a real install runs that script, as `npm install -g` does by default).
 */
describe('the npm pack tarball', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-pack-'));
  const prefix = join(dir, 'prefix');
  let tarball: string;

  before(async () => {
    assert.ok(existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')), 'npm test builds dist/ before the tests');
    // --ignore-scripts: `prepare` would rebuild dist/ under the tests that are reading it.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(packed);
    tarball = join(dir, packed.filename);
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('ships the built CLI and what it needs, and nothing of the checkout that it does not', async () => {
    const { stdout } = await run('tar', ['tzf', tarball], { maxBuffer: 16 * 1024 * 1024 });
    const files = stdout.split('\n').filter(Boolean);
    for (const needed of ['package/package.json', 'package/README.md', 'package/dist/cli/main.js', 'package/dist/server/index.js', 'package/dist/sdk/index.js', 'package/dist/latchkey.js']) {
      assert.ok(files.includes(needed), `${needed} is in the tarball`);
    }
    assert.ok(files.some((f) => /^package\/dist\/store\/migrations\/0001_/.test(f)), 'migrations are in the tarball');
    const stray = files.filter((f) => /^package\/(src|test|bench|node_modules|\.ci)\//.test(f) || f.endsWith('.tsbuildinfo') || f.includes('/.latchkey/'));
    assert.deepEqual(stray, []);
  });

  test('installs globally into a prefix and runs: --version, then serve answers /healthz outside the checkout', async () => {
    await run('npm', ['install', '--global', '--prefix', prefix, tarball, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      timeout: 480_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const installed = join(prefix, 'lib', 'node_modules', 'latchkey');
    const sqlite = join(installed, 'node_modules', 'better-sqlite3');
    const ours = join(REPO_ROOT, 'node_modules', 'better-sqlite3');
    const version = (p: string): string => (JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')) as { version: string }).version;
    if (!existsSync(join(sqlite, 'build', 'Release', 'better_sqlite3.node'))) {
      assert.equal(version(sqlite), version(ours), 'the installed better-sqlite3 is the checkout’s version, so its native build fits');
      mkdirSync(join(sqlite, 'build', 'Release'), { recursive: true });
      copyFileSync(join(ours, 'build', 'Release', 'better_sqlite3.node'), join(sqlite, 'build', 'Release', 'better_sqlite3.node'));
    }

    const bin = join(prefix, 'bin', 'latchkey');
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const versionRun = await run(bin, ['--version'], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir } });
    assert.equal(versionRun.stdout.trim(), pkg.version);

    const dataDir = join(dir, 'data');
    const child = spawn(bin, ['serve', '--port', '0'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, LATCHKEY_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 60_000);
        child.stdout.on('data', () => {
          const match = /Latchkey listening on (http:\/\/\S+)/.exec(out);
          if (match?.[1] !== undefined) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`serve exited with ${code}:\n${out}`));
        });
      });
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      // The installed CLI talks to the installed server.
      const adminToken = /Admin token[^\n]*\n\s+(\S+)/.exec(out)?.[1] ?? '';
      const status = await run(bin, ['status', '--json'], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, LATCHKEY_URL: url, LATCHKEY_ADMIN_TOKEN: adminToken } });
      assert.equal((JSON.parse(status.stdout) as { database: { kind: string } }).database.kind, 'sqlite');
      assert.ok(readdirSync(dataDir).includes('latchkey.db'));
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
