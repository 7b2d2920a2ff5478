import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI_PATH = join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface LatchkeyProcess {
  url: string;
  dataDir: string;
  adminToken: string;
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr): the captured logs. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Default: a fixed test admin token, so several processes can share one database; null: let serve make one. */
  adminToken?: string | null;
  /** Start through `npx latchkey serve`, exactly as the README says, instead of node dist/cli/main.js. */
  viaNpx?: boolean;
}

export const TEST_ADMIN_TOKEN = 'lka_test_admin_token_0123456789';

/** Starts the built `latchkey serve` (dist/) on a free port, as a user would. */
export async function startLatchkey(options: StartOptions = {}): Promise<LatchkeyProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'latchkey-test-'));
  const fixedToken = options.adminToken === undefined ? TEST_ADMIN_TOKEN : options.adminToken;
  const serveArgs = ['serve', '--port', '0', ...(options.args ?? [])];
  const [command, args] = options.viaNpx
    ? ['npx', ['--no-install', 'latchkey', ...serveArgs]]
    : [process.execPath, [CLI_PATH, ...serveArgs]];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dataDir,
      LATCHKEY_DATA_DIR: dataDir,
      ...(fixedToken === null ? {} : { LATCHKEY_ADMIN_TOKEN: fixedToken }),
      LATCHKEY_LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // npx runs latchkey as its child: a process group lets stop() reach both.
    detached: options.viaNpx === true,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const signal = (sig: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    if (!options.viaNpx) {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      return;
    }
    // The whole group, even if npx itself is gone: latchkey may outlive it.
    try {
      process.kill(-child.pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  };
  // npx's first run for a checkout installs it into npx's cache and runs its `prepare` script:
  // allow for that on a loaded machine.
  const startTimeoutMs = options.viaNpx ? 90_000 : 30_000;
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`latchkey did not start within ${startTimeoutMs / 1000} s:\n${out}`)), startTimeoutMs);
    const check = (): void => {
      const match = /Latchkey listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1] as string);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`latchkey exited with ${code}:\n${out}`));
    });
  }).catch(async (err: unknown) => {
    // A process left running holds this test file's event loop open, and the whole run with it.
    signal('SIGKILL');
    await exited;
    throw err;
  });
  const adminToken = fixedToken ?? /Admin token[^\n]*\n\s+(\S+)/.exec(out)?.[1] ?? '';
  return {
    url,
    dataDir,
    adminToken,
    child,
    output: () => out,
    stop: async () => {
      signal('SIGTERM');
      await exited;
    },
    kill: async () => {
      signal('SIGKILL');
      await exited;
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI once. */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  return new Promise((resolveResult) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input ?? '');
    child.once('close', (code) => resolveResult({ code: code ?? -1, stdout, stderr }));
  });
}
