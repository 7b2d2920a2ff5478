import { Pool } from 'undici';

export interface LoadResult {
  requests: number;
  errors: number;
  non2xx: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * A small closed-loop load generator on undici (autocannon-like): `connections`
 * keep-alive connections, each sending the next request as soon as the last
 * answer is read, for `durationMs`.
 */
export async function load(options: { url: string; path: string; connections: number; durationMs: number; headers?: Record<string, string> }): Promise<LoadResult> {
  const pool = new Pool(options.url, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const started = performance.now();
  const end = started + options.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'GET', path: options.path, headers: options.headers ?? {} });
        await res.body.arrayBuffer();
        if (res.statusCode < 200 || res.statusCode >= 300) non2xx += 1;
        latencies.push(performance.now() - t0);
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  return { requests: latencies.length, errors, non2xx, seconds, rps: latencies.length / seconds, p50Ms: pct(50), p99Ms: pct(99) };
}
