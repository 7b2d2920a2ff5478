import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { load, type LoadResult } from './loadgen.js';

const CONNECTIONS = 50;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const WARMUP_MS = 2_000;
const PATH = '/items/list';

interface Started {
  child: ChildProcess;
  info: { url: string; agentKey?: string };
}

function start(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'proxy-servers.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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

async function measure(name: string, url: string, path: string, headers: Record<string, string> = {}): Promise<LoadResult> {
  await load({ url, path, connections: CONNECTIONS, durationMs: WARMUP_MS, headers });
  const result = await load({ url, path, connections: CONNECTIONS, durationMs: DURATION_MS, headers });
  process.stdout.write(
    `${name.padEnd(24)} ${result.rps.toFixed(0).padStart(7)} req/s   p50 ${result.p50Ms.toFixed(2).padStart(6)} ms   p99 ${result.p99Ms.toFixed(2).padStart(6)} ms   (${result.requests} ok, ${result.non2xx} non-2xx, ${result.errors} errors)\n`,
  );
  return result;
}

/** `npm run bench -- proxy`: direct vs a bare Node proxy vs Latchkey's proxy, same load. */
export async function proxyBench(args: string[] = []): Promise<void> {
  const logLevel = args.includes('--log-info') ? 'info' : 'warn';
  process.stdout.write(
    `proxy benchmark: ${CONNECTIONS} keep-alive connections, ${DURATION_MS / 1000} s (after ${WARMUP_MS / 1000} s warm-up), GET small JSON\n` +
      `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; Latchkey log level ${logLevel}\n\n`,
  );
  const children: ChildProcess[] = [];
  try {
    const upstream = await start(['upstream']);
    children.push(upstream.child);
    const bare = await start(['bare', upstream.info.url]);
    children.push(bare.child);
    const lk = await start(['latchkey', upstream.info.url, logLevel]);
    children.push(lk.child);

    const direct = await measure('direct', upstream.info.url, PATH);
    const reference = await measure('bare node proxy', bare.info.url, `/v1/proxy/bench${PATH}`);
    const latchkey = await measure('latchkey proxy', lk.info.url, `/v1/proxy/bench${PATH}`, {
      authorization: `Bearer ${lk.info.agentKey ?? ''}`,
    });
    process.stdout.write(
      `\nlatchkey / bare: throughput ${(latchkey.rps / reference.rps).toFixed(2)}x (target >= 0.90), ` +
        `p99 ${(latchkey.p99Ms / reference.p99Ms).toFixed(2)}x (target <= 1.20)\n` +
        `bare / direct:   throughput ${(reference.rps / direct.rps).toFixed(2)}x\n`,
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
  }
}
