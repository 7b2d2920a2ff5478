import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CommanderError, InvalidArgumentError } from 'commander';
import { parseDuration } from '../duration.js';
import { readAdminToken } from '../config/admin-token.js';
import { lightFetch } from './http-fetch.js';
import { LatchkeyAdmin, LatchkeyApiError, LatchkeyConnectionError, LatchkeyRequestError } from '../sdk/index.js';

/** A failed operation: exit status 1 with the message on stderr. */
export class CliFailure extends Error {}

/** Bad usage: exit status 2. */
export class UsageError extends Error {}

export interface GlobalOptions {
  url?: string;
  json?: boolean;
}

/**
 * The server's URL, checked before anything is sent: a bad value is a usage
 * error that names where it came from (--url or LATCHKEY_URL).
 */
export function serverUrl(options: GlobalOptions): string {
  const fromEnv = process.env.LATCHKEY_URL;
  const [value, source] =
    options.url !== undefined ? [options.url, '--url'] : fromEnv !== undefined && fromEnv !== '' ? [fromEnv, 'LATCHKEY_URL'] : ['http://127.0.0.1:8787', 'the default URL'];
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new UsageError(`${source} is not a URL: "${value}" (expected e.g. http://127.0.0.1:8787)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`${source} must be an http:// or https:// URL, not "${value}"`);
  }
  if (parsed.username !== '' || parsed.password !== '' || parsed.search !== '' || parsed.hash !== '') {
    throw new UsageError(`${source} must be the server's base URL only (no credentials, query or fragment)`);
  }
  return value;
}

/**
 * The parser of a duration flag (--ttl, --lease-ttl, --expires): commander
 * runs it before the action, so a malformed value is a usage error (exit 2)
 * and nothing is sent. The server still decides the allowed range.
 */
export function durationArg(value: string): string {
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds <= 0) {
    throw new InvalidArgumentError(`"${value}" is not a duration: give a positive number of seconds (e.g. 900) or a number with s, m, h or d (e.g. 15m, 1h, 2d)`);
  }
  return value.trim();
}

/**
 * A JSON flag's value (--data), parsed where the action starts: a usage error
 * names the flag and what is wrong, never the value (it may hold a secret).
 */
export function jsonFlag(flag: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${flag} is not JSON (${jsonReason(err)})`);
  }
}

/**
 * Why a JSON text did not parse, without any of the text: Node's message for
 * an unexpected token quotes the characters around it ("..."{"token": lkat_…"),
 * which may be a secret. Only a message that quotes nothing is kept.
 */
export function jsonReason(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  return message !== '' && !message.includes('"') ? message : 'unexpected character';
}

/**
 * A secret from standard input (`--client-secret-stdin`, `--password-stdin`),
 * which keeps it out of argv and shell history. A client secret is trimmed; a
 * password loses only its line's newline (its spaces are part of it). Empty is
 * a usage error, never "no secret": it is a failed pipe, not a public client.
 */
export function secretFromStdin(flag: string, keep: 'trimmed' | 'line' = 'trimmed'): string {
  const text = readFileSync(0, 'utf8');
  const secret = keep === 'trimmed' ? text.trim() : text.replace(/\r?\n$/, '');
  if (secret === '') throw new UsageError(`${flag}: standard input was empty`);
  return secret;
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
  return new LatchkeyAdmin({ url: serverUrl(options), adminToken: token, fetch: lightFetch });
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
