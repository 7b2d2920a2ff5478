/**
 * `npm run bench -- cli`: start-up time of the built CLI, side by side with a
 * bare `node -e 0`. Each command is run RUNS times after one warm-up run; the
 * median and the fastest wall-clock time of the whole process are printed,
 * with the CPU time (user + system) the process used. The target (issue 14)
 * is under 150 ms for `latchkey --version` and `latchkey connections list`.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const TOKEN = 'lka_bench_admin_token_0123456789';

interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** One run under bash's `times`, which reports the CPU its children used (Linux, macOS). */
function once(args: string[], env: Record<string, string>): Timing {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const started = process.hrtime.bigint();
  const result = spawnSync('bash', ['-c', `${quoted} >/dev/null 2>&1 || exit 3; times`], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed (exit ${result.status})`);
  // Second line of `times`: children's user and system time, e.g. "0m0.071s 0m0.012s".
  const line = result.stdout.trim().split('\n')[1] ?? '';
  const seconds = [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  return { wallMs, cpuMs: seconds * 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function measure(name: string, args: string[], env: Record<string, string> = {}): number {
  once(args, env);
  const runs = Array.from({ length: RUNS }, () => once(args, env));
  const wall = median(runs.map((r) => r.wallMs));
  const fastest = Math.min(...runs.map((r) => r.wallMs));
  const cpu = median(runs.map((r) => r.cpuMs));
  process.stdout.write(
    `${name.padEnd(34)} median ${wall.toFixed(0).padStart(4)} ms   fastest ${fastest.toFixed(0).padStart(4)} ms   cpu ${cpu.toFixed(0).padStart(4)} ms\n`,
  );
  return wall;
}

async function startServer(dataDir: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    env: { ...process.env, LATCHKEY_DATA_DIR: dataDir, LATCHKEY_ADMIN_TOKEN: TOKEN, LATCHKEY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /Latchkey listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`latchkey serve exited with ${code}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

export async function cliBench(): Promise<void> {
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-cli-'));
  const server = await startServer(dataDir);
  try {
    const env = { LATCHKEY_URL: server.url, LATCHKEY_ADMIN_TOKEN: TOKEN, LATCHKEY_DATA_DIR: dataDir };
    process.stdout.write(`${RUNS} runs each (after one warm-up); server at ${server.url}\n`);
    measure('node -e 0', [process.execPath, '-e', '0']);
    const version = measure('latchkey --version', [process.execPath, CLI, '--version']);
    const list = measure('latchkey connections list', [process.execPath, CLI, 'connections', 'list'], env);
    const target = 150;
    process.stdout.write(
      `target < ${target} ms: --version ${version < target ? 'ok' : 'MISSED'}, connections list ${list < target ? 'ok' : 'MISSED'}\n`,
    );
  } finally {
    server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
