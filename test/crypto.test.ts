import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Keyring, MasterKeyMismatch, deriveKey, open, seal, type KeyringStore, type StoredKey } from '../src/crypto/index.js';

const ctx = { table: 'connections', rowId: 'conn_a', column: 'tokens' };

test('seal/open round-trips and binds the ciphertext to table, row and column', () => {
  const key = { id: 'k1', key: randomBytes(32) };
  const envelope = seal(key, 'hello', ctx);
  assert.match(envelope, /^lk1\.k1\./);
  assert.equal(open(key, envelope, ctx).toString(), 'hello');
  assert.throws(() => open(key, envelope, { ...ctx, rowId: 'conn_b' }), /does not open/);
  assert.throws(() => open(key, envelope, { ...ctx, column: 'other' }), /does not open/);
  assert.throws(() => open(key, envelope, { ...ctx, table: 'providers' }), /does not open/);
});

test('two seals of the same value differ (random nonce)', () => {
  const key = { id: 'k1', key: randomBytes(32) };
  assert.notEqual(seal(key, 'same', ctx), seal(key, 'same', ctx));
});

test('a truncated or altered tag does not open', () => {
  const key = { id: 'k1', key: randomBytes(32) };
  const envelope = seal(key, 'hello', ctx);
  const [v, id, body] = envelope.split('.') as [string, string, string];
  const packed = Buffer.from(body, 'base64url');
  const truncated = `${v}.${id}.${packed.subarray(0, packed.length - 4).toString('base64url')}`;
  assert.throws(() => open(key, truncated, ctx));
  const flipped = Buffer.from(packed);
  flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
  assert.throws(() => open(key, `${v}.${id}.${flipped.toString('base64url')}`, ctx), /does not open/);
});

function memoryKeyStore(): KeyringStore & { keys: StoredKey[] } {
  const keys: StoredKey[] = [];
  return {
    keys,
    listKeys: async () => keys.map((k) => ({ ...k })),
    insertActiveKey: async (key) => {
      for (const k of keys) if (k.status === 'active') k.status = 'decrypt_only';
      keys.push({ ...key });
    },
    reserveSeals: async (id, count) => {
      const k = keys.find((x) => x.id === id);
      if (k === undefined) throw new Error('no key');
      if (k.status !== 'active') return undefined;
      k.sealsReserved += count;
      return k.sealsReserved;
    },
    activeKeyId: async () => keys.find((k) => k.status === 'active')?.id,
    setKeyStatus: async (id, status) => {
      const k = keys.find((x) => x.id === id);
      if (k) k.status = status;
    },
  };
}

test('the keyring creates a key, wraps it under the master key, and refuses another master key', async () => {
  const store = memoryKeyStore();
  const master = randomBytes(32);
  const keyring = await Keyring.load(master, store);
  assert.equal(store.keys.length, 1);
  assert.ok(!store.keys[0]?.wrappedKey.includes(master.toString('base64')));
  const sealed = await keyring.seal('secret', ctx);
  assert.equal(await keyring.openString(sealed, ctx), 'secret');
  await assert.rejects(Keyring.load(randomBytes(32), store), MasterKeyMismatch);
  assert.equal(store.keys.length, 1, 'a wrong master key writes nothing');
});

test('seals are counted in reserved blocks', async () => {
  const store = memoryKeyStore();
  const keyring = await Keyring.load(randomBytes(32), store);
  await Promise.all(Array.from({ length: 1500 }, () => keyring.seal('x', ctx)));
  assert.equal(store.keys[0]?.sealsReserved, 2048);
});

test('old keys keep opening what they sealed after a new key is added', async () => {
  const store = memoryKeyStore();
  const keyring = await Keyring.load(randomBytes(32), store);
  const before = await keyring.seal('old', ctx);
  const firstId = keyring.activeKeyId;
  await keyring.addKey();
  assert.notEqual(keyring.activeKeyId, firstId);
  assert.equal(await keyring.openString(before, ctx), 'old');
  assert.equal(keyring.keyIdOf(await keyring.seal('new', ctx)), keyring.activeKeyId);
});

test('a keyring sharing a store with another sees its rotation before it seals again', async () => {
  const store = memoryKeyStore();
  const master = randomBytes(32);
  const one = await Keyring.load(master, store, undefined, { checkIntervalMs: 0 });
  const two = await Keyring.load(master, store, undefined, { checkIntervalMs: 0 });
  const ctx = { table: 't', rowId: 'r', column: 'c' };
  const first = one.keyIdOf(await one.seal('x', ctx));
  assert.equal(two.keyIdOf(await two.seal('x', ctx)), first);
  const next = await one.addKey();
  assert.notEqual(next, first);
  assert.equal(two.keyIdOf(await two.seal('y', ctx)), next, 'the other keyring took the new key');
  assert.equal((await one.open(await two.seal('z', ctx), ctx)).toString(), 'z');
});

test('purpose keys: HKDF of the master key, one per purpose, the same in every process, unchanged by rotation', async () => {
  const master = randomBytes(32);
  const store = memoryKeyStore();
  const one = await Keyring.load(master, store);
  const two = await Keyring.load(master, memoryKeyStore());
  const other = await Keyring.load(randomBytes(32), memoryKeyStore());
  const purpose = 'latchkey provider integrity v1';
  assert.equal(one.deriveKey(purpose).length, 32);
  assert.deepEqual(one.deriveKey(purpose), two.deriveKey(purpose), 'the same master key gives the same key (replicas agree)');
  assert.notDeepEqual(one.deriveKey(purpose), one.deriveKey('latchkey audit chain v1'), 'purposes are separated');
  assert.notDeepEqual(one.deriveKey(purpose), other.deriveKey(purpose), 'another master key gives another key');
  assert.notDeepEqual(one.deriveKey(purpose), master, 'never the master key itself');
  const before = one.mac(purpose, 'data');
  await one.addKey();
  assert.deepEqual(one.mac(purpose, 'data'), before, 'data-key rotation leaves purpose keys alone');
  assert.notDeepEqual(one.mac(purpose, 'data'), one.mac(purpose, 'datb'));
  // The keyring's purpose keys are the free function's, so the audit chain and provider rows agree on them.
  assert.deepEqual(one.deriveKey(purpose), deriveKey(master, purpose));
});

test('deriveKey gives one stable 32-byte key per purpose, none equal to the master key (RFC 5869 HKDF-SHA256)', () => {
  const master = randomBytes(32);
  const chain = deriveKey(master, 'latchkey audit chain v1');
  assert.equal(chain.length, 32);
  assert.ok(chain.equals(deriveKey(master, 'latchkey audit chain v1')));
  assert.ok(!chain.equals(deriveKey(master, 'latchkey audit checkpoint v1')));
  assert.ok(!chain.equals(master));
  assert.ok(!chain.equals(deriveKey(randomBytes(32), 'latchkey audit chain v1')));
  // RFC 5869 test case 3 (empty salt and info), first 32 bytes of OKM.
  const ikm = Buffer.alloc(22, 0x0b);
  assert.equal(deriveKey(ikm, '').toString('hex'), '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d');
});
