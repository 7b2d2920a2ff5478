import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './index.js';

/** Only the token's SHA-256 is kept in the data directory (the token is shown once). */
export const ADMIN_TOKEN_HASH_FILE = 'admin-token.sha256';
/** Where releases before 0.2 kept the token in clear; read once to migrate, then removed. */
export const LEGACY_ADMIN_TOKEN_FILE = 'admin-token';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function newAdminToken(): string {
  return `lka_${randomBytes(32).toString('base64url')}`;
}

/** Writes the hash file atomically (mode 0600), so a running server never reads half of it. */
export function writeAdminTokenHash(dataDir: string, token: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, ADMIN_TOKEN_HASH_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${sha256(token).toString('hex')}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

export interface AdminCredential {
  /** Whether a presented credential is the admin token (constant time). */
  verify(credential: string): boolean;
  /** The token, on the first start only, to be shown once. */
  created: string | undefined;
  /** True when a clear-text token file of an older release was turned into a hash. */
  migrated: boolean;
}

/**
 * LATCHKEY_ADMIN_TOKEN, else the hash in the data directory, made on first
 * start. A hash file replaced by `latchkey admin-token reset` is noticed
 * within a second, so the old token stops working without a restart.
 */
export function resolveAdminToken(config: Pick<Config, 'adminToken' | 'dataDir'>): AdminCredential {
  if (config.adminToken !== undefined) {
    const digest = sha256(config.adminToken);
    return { verify: (credential) => timingSafeEqual(sha256(credential), digest), created: undefined, migrated: false };
  }
  const hashPath = join(config.dataDir, ADMIN_TOKEN_HASH_FILE);
  const legacyPath = join(config.dataDir, LEGACY_ADMIN_TOKEN_FILE);
  let created: string | undefined;
  let migrated = false;
  if (!existsSync(hashPath)) {
    if (existsSync(legacyPath)) {
      writeAdminTokenHash(config.dataDir, readFileSync(legacyPath, 'utf8').trim());
      rmSync(legacyPath);
      migrated = true;
    } else {
      created = newAdminToken();
      writeAdminTokenHash(config.dataDir, created);
    }
  }
  let digest = Buffer.alloc(32);
  let mtimeMs = -1;
  let checkedAt = 0;
  const current = (): Buffer => {
    const now = Date.now();
    if (now - checkedAt >= 1000) {
      checkedAt = now;
      const stat = statSync(hashPath, { throwIfNoEntry: false });
      if (stat !== undefined && stat.mtimeMs !== mtimeMs) {
        mtimeMs = stat.mtimeMs;
        digest = Buffer.from(readFileSync(hashPath, 'utf8').trim(), 'hex');
      }
    }
    return digest;
  };
  current();
  return {
    verify: (credential) => {
      const expected = current();
      return expected.length === 32 && timingSafeEqual(sha256(credential), expected);
    },
    created,
    migrated,
  };
}

/** The admin token for CLI use: LATCHKEY_ADMIN_TOKEN, or the clear file of a server not yet upgraded. */
export function readAdminToken(config: Pick<Config, 'adminToken' | 'dataDir'>): string | undefined {
  if (config.adminToken !== undefined) return config.adminToken;
  const path = join(config.dataDir, LEGACY_ADMIN_TOKEN_FILE);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}
