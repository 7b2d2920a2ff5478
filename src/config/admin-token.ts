import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './index.js';

export const ADMIN_TOKEN_FILE = 'admin-token';

/** LATCHKEY_ADMIN_TOKEN, else the token file in the data directory, made (mode 0600) on first start. */
export function resolveAdminToken(config: Pick<Config, 'adminToken' | 'dataDir'>): { token: string; created: boolean } {
  if (config.adminToken !== undefined) return { token: config.adminToken, created: false };
  const path = join(config.dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(path)) return { token: readFileSync(path, 'utf8').trim(), created: false };
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const token = `lka_${randomBytes(32).toString('base64url')}`;
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, created: true };
}

/** The admin token for CLI use, without creating one. */
export function readAdminToken(config: Pick<Config, 'adminToken' | 'dataDir'>): string | undefined {
  if (config.adminToken !== undefined) return config.adminToken;
  const path = join(config.dataDir, ADMIN_TOKEN_FILE);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}
