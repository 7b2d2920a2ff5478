import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { load, type LoadResult } from './loadgen.js';
import { coreLayout, cpuSeconds, pinSelf, type Layout } from './pinning.js';

const CONNECTIONS = 50;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const WARMUP_MS = 2_000;
const PATH = '/items/list';

interface Started {
  child: ChildProcess;
  info: { url: string; agentKey?: string };
}

function start(args: string[], cores: string | undefined, env: Record<string, string> = {}): Promise<Started> {
  const node = [process.execPath, '--import', 'tsx', join(import.meta.dirname, 'proxy-servers.ts'), ...args];
  // taskset execs node in place, so the child's pid is the server's pid (for its CPU time).
  const [command, ...rest] = cores === undefined ? node : ['taskset', '-c', cores, ...node];
  const child = spawn(command ?? process.execPath, rest, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined && out.includes('\n')) resolve({ child, info: JSON.parse(line) as Started['info'] });
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

interface Measured extends LoadResult {
  /** CPU the measured server used during the measured window, in cores (1 = one core busy). */
  cpu: number;
}

async function measure(name: string, server: Started, path: string, headers: Record<string, string> = {}): Promise<Measured> {
  const url = server.info.url;
  // Warm-up (JIT, connection pools, read caches) is not counted.
  await load({ url, path, connections: CONNECTIONS, durationMs: WARMUP_MS, headers });
  const before = cpuSeconds(server.child.pid ?? 0);
  const result = await load({ url, path, connections: CONNECTIONS, durationMs: DURATION_MS, headers });
  const cpu = (cpuSeconds(server.child.pid ?? 0) - before) / result.seconds;
  const perRequest = Number.isNaN(cpu) ? '' : `   cpu ${(cpu * 100).toFixed(0).padStart(3)}%, ${((cpu * 1e6) / result.rps).toFixed(0)} µs/req`;
  process.stdout.write(
    `${name.padEnd(24)} ${result.rps.toFixed(0).padStart(7)} req/s   p50 ${result.p50Ms.toFixed(2).padStart(6)} ms   p99 ${result.p99Ms.toFixed(2).padStart(6)} ms${perRequest}   (${result.requests} ok, ${result.non2xx} non-2xx, ${result.errors} errors)\n`,
  );
  return { ...result, cpu };
}

/** Latchkey runs from dist/, as in production; a failed build falls back to src/ through tsx, and says so. */
function buildLatchkey(): 'dist' | 'src' {
  try {
    execFileSync(process.execPath, [join(import.meta.dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return 'dist';
  } catch {
    process.stdout.write('(build failed: running Latchkey from src/ through tsx, which is a few per cent slower)\n');
    return 'src';
  }
}

/** `npm run bench -- proxy`: direct vs a bare Node proxy vs Latchkey's proxy, same load, same cores. */
export async function proxyBench(args: string[] = []): Promise<void> {
  const logLevel = args.includes('--log-info') ? 'info' : 'warn';
  const from = buildLatchkey();
  const layout: Layout | undefined = args.includes('--no-pin')
    ? undefined
    : coreLayout({ isolateProxy: args.includes('--isolate-proxy') });
  if (layout !== undefined) pinSelf(layout.loadgen);
  process.stdout.write(
    `proxy benchmark: ${CONNECTIONS} keep-alive connections, ${DURATION_MS / 1000} s (after ${WARMUP_MS / 1000} s warm-up), GET small JSON\n` +
      `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; Latchkey from ${from}/, log level ${logLevel}\n` +
      `cores: ${layout?.note ?? 'not pinned (taskset unavailable or --no-pin)'}\n\n`,
  );
  const children: ChildProcess[] = [];
  try {
    const upstream = await start(['upstream'], layout?.upstream);
    children.push(upstream.child);
    const bare = await start(['bare', upstream.info.url], layout?.proxy);
    children.push(bare.child);
    const lk = await start(['latchkey', upstream.info.url, logLevel], layout?.proxy, { LATCHKEY_BENCH_FROM: from });
    children.push(lk.child);

    const direct = await measure('direct', upstream, PATH);
    const reference = await measure('bare node proxy', bare, `/v1/proxy/bench${PATH}`);
    const latchkey = await measure('latchkey proxy', lk, `/v1/proxy/bench${PATH}`, {
      authorization: `Bearer ${lk.info.agentKey ?? ''}`,
    });
    const cpuRatio = (latchkey.cpu / latchkey.rps / (reference.cpu / reference.rps)).toFixed(2);
    process.stdout.write(
      `\nlatchkey / bare:   throughput ${(latchkey.rps / reference.rps).toFixed(2)}x (target >= 0.90), ` +
        `p99 ${(latchkey.p99Ms / reference.p99Ms).toFixed(2)}x (target <= 1.20), CPU per request ${cpuRatio}x\n` +
        `latchkey / direct: throughput ${(latchkey.rps / direct.rps).toFixed(2)}x, p99 ${(latchkey.p99Ms / direct.p99Ms).toFixed(2)}x\n` +
        `bare / direct:     throughput ${(reference.rps / direct.rps).toFixed(2)}x, p99 ${(reference.p99Ms / direct.p99Ms).toFixed(2)}x\n`,
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
  }
}
