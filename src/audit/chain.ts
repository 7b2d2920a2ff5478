import { createHash, createHmac, hash } from 'node:crypto';
import type { AuditEventRow } from '../store/index.js';
import type { StoredEvent } from './types.js';

/** The link before a chain's first block: bound to the chain id, so blocks cannot move between chains. */
export function genesisHash(chainId: string): string {
  return createHash('sha256').update(`latchkey-audit-genesis:${chainId}`).digest('hex');
}

/**
 * The hash of a block covers the previous block's hash, its place (chain and
 * block number) and the exact JSON text of its events, so editing, adding,
 * removing or reordering any event changes it.
 */
export function hashBlock(prevHash: string, chainId: string, block: number, events: string): string {
  return hash('sha256', `${prevHash}\n${chainId}\n${block}\n${events}`, 'hex');
}

/** What starts the hash of a block chained with a key (HMAC): a stored hash without it is a plain SHA-256. */
export const KEYED_PREFIX = 'k1:';

/**
 * The link of a keyed chain: HMAC-SHA256, under a key derived from the master
 * key, over what `hashBlock` covers. Someone who can only write the database
 * cannot recompute it after changing a block.
 */
export function macBlock(key: Buffer, prevHash: string, chainId: string, block: number, events: string): string {
  return KEYED_PREFIX + createHmac('sha256', key).update(`${prevHash}\n${chainId}\n${block}\n${events}`).digest('hex');
}

export function isKeyedHash(stored: string): boolean {
  return stored.startsWith(KEYED_PREFIX);
}

/**
 * What a block is found by when the log is listed with a filter: every actor
 * id and name (`a:`), connection (`c:`) and action (`x:`) of its events, one
 * per line, so the database can skip blocks without the filtered value. Not
 * hashed (it is derived from what is), but `verify` recomputes it.
 */
export function blockSearchKeys(events: readonly StoredEvent[], encode: (value: string) => string = keyText): string {
  const keys = new Set<string>();
  for (const e of events) {
    if (e.actor.id !== null) keys.add(`a:${encode(e.actor.id)}`);
    if (e.actor.name !== null) keys.add(`a:${encode(e.actor.name)}`);
    if (e.connection !== null) keys.add(`c:${encode(e.connection)}`);
    keys.add(`x:${encode(e.action)}`);
  }
  return `\n${[...keys].join('\n')}\n`;
}

/** The line `blockSearchKeys` holds for a filter value: `a` agent (id or name), `c` connection, `x` action. */
export function searchKey(kind: 'a' | 'c' | 'x', value: string): string {
  return `\n${kind}:${keyText(value)}\n`;
}

// eslint-disable-next-line no-control-regex -- NUL is what it looks for
const UNSTORABLE = /[\u0000\n\r]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A value as a search key holds it: NUL (which PostgreSQL cannot store in
 * text), lone surrogates (which do not survive UTF-8) and line breaks (which
 * separate the keys) written as `\uXXXX`. Two values may then share a key;
 * listing still compares each event, so that only costs a block read.
 */
export function keyText(value: string): string {
  return value.replace(UNSTORABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Search keys as written before `keyText` (raw values): still accepted by verify. */
export const rawKeyText = (value: string): string => value;

/** The hash of one event as 0004 stored them (one row each): every column and the previous event's hash. */
export function hashEvent(row: Omit<AuditEventRow, 'hash'> & { hash?: string }): string {
  const canonical = JSON.stringify([
    row.prevHash,
    row.chainId,
    row.seq,
    row.id,
    row.at,
    row.actorType,
    row.actorId,
    row.actorName,
    row.action,
    row.connection,
    row.outcome,
    row.status,
    row.detail,
  ]);
  return hash('sha256', canonical, 'hex');
}
