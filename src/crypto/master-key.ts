import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const MASTER_KEY_FILE = 'master.key';

export class MasterKeyMissing extends Error {
  constructor(path: string) {
    super(
      `the database holds sealed keys but there is no master key: set LATCHKEY_MASTER_KEY or restore ${path}`,
    );
    this.name = 'MasterKeyMissing';
  }
}

export class MasterKeyExposed extends Error {
  constructor(path: string, mode: number) {
    super(
      `${path} is readable by other users (mode ${(mode & 0o777).toString(8).padStart(3, '0')}): anyone who can read it can open every sealed token; run chmod 600 ${path} (and rotate the key if others may have read it)`,
    );
    this.name = 'MasterKeyExposed';
  }
}

/** Like ssh with a private key: a key file that group or others may read or write is refused. */
function checkPrivate(path: string): void {
  if (process.platform === 'win32') return;
  const { mode } = statSync(path);
  if ((mode & 0o077) !== 0) throw new MasterKeyExposed(path, mode);
}

/**
 * The master key comes from LATCHKEY_MASTER_KEY or the key file in the data
 * directory. A new key file (mode 0600) is only made for a database that has
 * no keys yet; otherwise a fresh key would just lock the user out.
 */
export function loadMasterKey(options: { fromEnv: Buffer | undefined; dataDir: string; databaseHasKeys: boolean }): Buffer {
  if (options.fromEnv !== undefined) return options.fromEnv;
  const path = join(options.dataDir, MASTER_KEY_FILE);
  if (existsSync(path)) {
    checkPrivate(path);
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${path} does not hold a base64 32-byte key`);
    return key;
  }
  if (options.databaseHasKeys) throw new MasterKeyMissing(path);
  const key = randomBytes(32);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
