import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * Core layout of the proxy bench. The load generator and the upstream are
 * the same for every target, and each proxy under test gets the same cores,
 * so the bare proxy and Latchkey are measured on the same budget. With two
 * cores, by default as the issue describes it: the load generator on core 0,
 * the servers (upstream and proxy under test) on core 1. `isolateProxy`
 * instead gives the proxy core 1 to itself, which shows its own cost more
 * starkly.
 */
export interface Layout {
  loadgen: string;
  upstream: string;
  proxy: string;
  note: string;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function coreLayout(options: { isolateProxy?: boolean } = {}): Layout | undefined {
  if (process.platform !== 'linux' || !hasTaskset()) return undefined;
  const n = availableParallelism();
  if (n < 2) return undefined;
  if (n === 2 && options.isolateProxy) {
    return { loadgen: '0', upstream: '0', proxy: '1', note: 'load generator + upstream on core 0, proxy under test on core 1' };
  }
  if (n === 2) return { loadgen: '0', upstream: '1', proxy: '1', note: 'load generator on core 0, upstream + proxy under test on core 1' };
  if (n === 3) return { loadgen: '0', upstream: '1', proxy: '2', note: 'load generator core 0, upstream core 1, proxy under test core 2' };
  return { loadgen: '0', upstream: '1', proxy: '2-3', note: 'load generator core 0, upstream core 1, proxy under test cores 2-3' };
}

/** Pins every thread of this process (the load generator). */
export function pinSelf(cores: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cores, String(process.pid)], { stdio: 'ignore' });
}

/** CPU seconds (user + system) a process has used so far, or NaN where /proc is not there. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
