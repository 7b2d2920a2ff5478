import { setTimeout as delay } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Keyring } from './keyring.js';
import type { SealContext } from './seal.js';

/** One sealed value as storage holds it. */
export interface SealedValueRef {
  table: string;
  column: string;
  rowId: string;
  envelope: string;
}

/** What rotation needs from storage: page through sealed columns, compare-and-set a value. */
export interface SealedValueSource {
  columns: ReadonlyArray<{ table: string; column: string }>;
  page(table: string, column: string, afterId: string, limit: number): Promise<SealedValueRef[]>;
  replace(value: SealedValueRef, envelope: string): Promise<boolean>;
}

export interface RotationResult {
  newKeyId: string;
  resealed: number;
  retiredKeyIds: string[];
}

const PAGE = 200;

/**
 * Adds a new active key, re-seals every sealed value under it, and retires each
 * older key that nothing uses any more. A value changed concurrently (a refresh
 * wrote new tokens) is already under the new key, so a lost compare-and-set is fine.
 */
export async function rotateKeys(keyring: Keyring, source: SealedValueSource): Promise<RotationResult> {
  const newKeyId = await keyring.addKey();
  // Every replica confirms its active key at least this often before sealing: once it has passed,
  // nobody seals under an old key any more, so the check below can trust what it sees.
  const settledAt = performance.now() + keyring.checkIntervalMs;
  let resealed = 0;
  const stillUsed = new Set<string>();
  for (const { table, column } of source.columns) {
    let after = '';
    for (;;) {
      const values = await source.page(table, column, after, PAGE);
      if (values.length === 0) break;
      for (const value of values) {
        after = value.rowId;
        if (keyring.keyIdOf(value.envelope) === newKeyId) continue;
        const context: SealContext = { table, rowId: value.rowId, column };
        const plaintext = await keyring.open(value.envelope, context);
        const replaced = await source.replace(value, await keyring.seal(plaintext, context));
        if (replaced) resealed += 1;
      }
    }
    // A second pass catches values written under an old key while the first pass ran.
    await delay(Math.max(0, settledAt - performance.now()));
    after = '';
    for (;;) {
      const values = await source.page(table, column, after, PAGE);
      if (values.length === 0) break;
      for (const value of values) {
        after = value.rowId;
        const keyId = keyring.keyIdOf(value.envelope);
        if (keyId !== newKeyId) stillUsed.add(keyId);
      }
    }
  }
  const retiredKeyIds: string[] = [];
  for (const id of await keyring.nonRetiredKeyIds()) {
    if (id === newKeyId || stillUsed.has(id)) continue;
    await keyring.retire(id);
    retiredKeyIds.push(id);
  }
  return { newKeyId, resealed, retiredKeyIds };
}
