import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Clock } from '../../src/clock.js';
import type { LatchkeyOptions } from '../../src/latchkey.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { adminClient } from './admin-client.js';

export const ADMIN = 'lka_inprocess_admin_token_000000';

/** A log sink tests can grep for secrets. */
export class LogCapture extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(chunk.toString());
    done();
  }
  text(): string {
    return this.lines.join('');
  }
}

export interface InProcess extends RunningServer {
  logs: LogCapture;
  config: Config;
  /** fetch with the admin token, JSON in and out. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown; headers: Headers }>;
}

/** A real listening server in this process, with an injectable clock and captured logs. */
export async function startInProcess(
  options: { env?: Record<string, string>; databaseUrl?: string; dataDir?: string; clock?: Clock } & Pick<LatchkeyOptions, 'lookup' | 'onDial' | 'gatewayTimeoutMs'> = {},
): Promise<InProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'latchkey-inproc-'));
  const config = loadConfig(
    { port: 0, dataDir, ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}) },
    { LATCHKEY_ADMIN_TOKEN: ADMIN, LATCHKEY_ALLOW_HTTP_LOOPBACK: '1', LATCHKEY_LOG_LEVEL: 'debug', ...options.env },
  );
  const logs = new LogCapture();
  const server = await startServer(config, {
    logger: createLogger(config.logLevel, logs),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(options.onDial ? { onDial: options.onDial } : {}),
    ...(options.gatewayTimeoutMs === undefined ? {} : { gatewayTimeoutMs: options.gatewayTimeoutMs }),
  });
  const admin: InProcess['admin'] = adminClient(server.url, ADMIN);
  return { ...server, logs, config, admin };
}
