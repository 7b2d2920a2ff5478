import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** How far a chain reached at `at`: its last block, event and hash. */
export interface Checkpoint {
  chainId: string;
  block: number;
  seq: number;
  hash: string;
  at: string;
}

/** A checkpoint with its HMAC under a key derived from the master key. */
export interface SignedCheckpoint extends Checkpoint {
  mac: string;
}

/** A checkpoint file as verify reads it: the checkpoint, or why it is not one. */
export type CheckpointFile = { file: string; checkpoint: SignedCheckpoint } | { file: string; chainId: string; problem: string };

/** The directory, inside the data directory, holding one file per chain (`<chain id>.json`). */
export const CHECKPOINT_DIR = 'audit-checkpoints';

const CHAIN_ID = /^chn_[a-z0-9]{1,64}$/;

function macOf(key: Buffer, c: Checkpoint): string {
  return createHmac('sha256', key).update(JSON.stringify(['latchkey-audit-checkpoint', c.chainId, c.block, c.seq, c.hash, c.at])).digest('hex');
}

export function signCheckpoint(key: Buffer, c: Checkpoint): SignedCheckpoint {
  return { chainId: c.chainId, block: c.block, seq: c.seq, hash: c.hash, at: c.at, mac: macOf(key, c) };
}

function isCheckpoint(value: unknown): value is SignedCheckpoint {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.chainId === 'string' &&
    CHAIN_ID.test(c.chainId) &&
    Number.isSafeInteger(c.block) &&
    Number.isSafeInteger(c.seq) &&
    typeof c.hash === 'string' &&
    typeof c.at === 'string' &&
    typeof c.mac === 'string'
  );
}

/**
 * Replaces the chain's checkpoint file (mode 0600) and makes it durable:
 * written to a temporary file, fsync'd, renamed over the old one, and the
 * directory fsync'd, so a crash leaves the old checkpoint or the new one.
 */
export async function writeCheckpoint(dir: string, checkpoint: SignedCheckpoint): Promise<void> {
  if (!CHAIN_ID.test(checkpoint.chainId)) throw new Error('not a chain id');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${checkpoint.chainId}.json`);
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(checkpoint)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** Every checkpoint file in `dir` (none if it does not exist), each checked against its signature. */
export async function readCheckpoints(dir: string, key: Buffer): Promise<CheckpointFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const found: CheckpointFile[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = `${CHECKPOINT_DIR}/${name}`;
    const chainId = name.slice(0, -'.json'.length);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(join(dir, name), 'utf8'));
    } catch {
      parsed = undefined;
    }
    if (!isCheckpoint(parsed) || parsed.chainId !== chainId) {
      found.push({ file, chainId, problem: `${file} does not hold a checkpoint of chain ${chainId}` });
      continue;
    }
    const expected = Buffer.from(macOf(key, parsed), 'hex');
    const given = Buffer.from(parsed.mac, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      found.push({ file, chainId, problem: `${file} was changed: its signature does not match` });
      continue;
    }
    found.push({ file, checkpoint: parsed });
  }
  return found;
}
