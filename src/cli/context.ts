import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CommanderError } from 'commander';
import { readAdminToken } from '../config/admin-token.js';
import { LatchkeyAdmin, LatchkeyApiError, LatchkeyConnectionError, LatchkeyRequestError } from '../sdk/index.js';

/** A failed operation: exit status 1 with the message on stderr. */
export class CliFailure extends Error {}

/** Bad usage: exit status 2. */
export class UsageError extends Error {}

export interface GlobalOptions {
  url?: string;
  json?: boolean;
}

export function serverUrl(options: GlobalOptions): string {
  return options.url ?? process.env.LATCHKEY_URL ?? 'http://127.0.0.1:8787';
}

/** The server's data directory as the CLI sees it (LATCHKEY_DATA_DIR, default ~/.latchkey). */
export function dataDirOf(): string {
  return resolve(process.env.LATCHKEY_DATA_DIR || join(homedir(), '.latchkey'));
}

export function adminClient(options: GlobalOptions): LatchkeyAdmin {
  const dataDir = dataDirOf();
  const token = readAdminToken({ adminToken: process.env.LATCHKEY_ADMIN_TOKEN || undefined, dataDir });
  if (token === undefined) {
    throw new CliFailure(
      'no admin token: set LATCHKEY_ADMIN_TOKEN to the token `latchkey serve` printed on its first start (or make a new one with `latchkey admin-token reset`)',
    );
  }
  return new LatchkeyAdmin({ url: serverUrl(options), adminToken: token });
}

/** Maps any error to the CLI contract's exit status and a readable line. */
export function exitCodeFor(err: unknown): { code: number; message: string | undefined } {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
      return { code: 0, message: undefined };
    }
    // Commander has already printed its own message.
    return { code: 2, message: undefined };
  }
  if (err instanceof UsageError) return { code: 2, message: err.message };
  if (err instanceof LatchkeyApiError || err instanceof LatchkeyRequestError) return { code: 1, message: `${err.message} (${err.code})` };
  if (err instanceof LatchkeyConnectionError || err instanceof CliFailure) return { code: 1, message: err.message };
  if (err instanceof Error) return { code: 1, message: err.message };
  return { code: 1, message: String(err) };
}

/**
 * A failure as a script reads it (`--json`): the API's own error object
 * (`error`, `message`, and fields such as `reconnectUrl`), or the same shape
 * for a failure that never reached the API.
 */
export function errorObjectFor(err: unknown): Record<string, unknown> {
  if (err instanceof LatchkeyApiError) {
    return typeof err.body.error === 'string' ? err.body : { error: err.code, message: err.message, status: err.status };
  }
  if (err instanceof CommanderError) return { error: 'usage', message: err.message.replace(/^error: /, '') };
  if (err instanceof UsageError) return { error: 'usage', message: err.message };
  if (err instanceof LatchkeyRequestError) return { error: err.code, message: err.message };
  if (err instanceof LatchkeyConnectionError) return { error: 'unreachable', message: err.message };
  return { error: 'failed', message: err instanceof Error ? err.message : String(err) };
}
