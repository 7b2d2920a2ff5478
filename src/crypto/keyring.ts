import { createHmac, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { deriveKey } from './derive.js';
import { open, seal, envelopeKeyId, OpenError, type DataKey, type SealContext } from './seal.js';

export type KeyStatus = 'active' | 'decrypt_only' | 'retired';

/** A data key as stored: its material wrapped (sealed) under the master key. */
export interface StoredKey {
  id: string;
  wrappedKey: string;
  status: KeyStatus;
  createdAt: string;
  sealsReserved: number;
}

/** What the keyring needs from storage; store/ implements it. */
export interface KeyringStore {
  listKeys(): Promise<StoredKey[]>;
  /** Inserts a key and makes it the only active one, in one transaction. */
  insertActiveKey(key: StoredKey): Promise<void>;
  /**
   * Atomically adds `count` to the key's reserved seal count and returns the new total, or
   * undefined when the key is no longer the active one (another replica rotated).
   */
  reserveSeals(id: string, count: number): Promise<number | undefined>;
  /** The id of the active key, read cheaply (one indexed row). */
  activeKeyId(): Promise<string | undefined>;
  setKeyStatus(id: string, status: KeyStatus): Promise<void>;
}

/** The master key does not open the stored data keys. */
export class MasterKeyMismatch extends Error {
  constructor() {
    super('the master key does not match this database (wrong LATCHKEY_MASTER_KEY or key file?)');
    this.name = 'MasterKeyMismatch';
  }
}

/**
 * Random 96-bit nonces stay safe for about 2^32 seals per key; rotate well
 * before that. Seals are reserved in blocks so counting costs one write per block.
 */
export const SEAL_LIMIT_PER_KEY = 2 ** 31;
const SEAL_BLOCK = 1024;

/**
 * How old this process's idea of the active key may be when it seals. Another
 * replica's rotation is seen within this time, and `rotateKeys` waits this long
 * before it decides which old keys nothing uses any more.
 */
export const ACTIVE_KEY_CHECK_MS = 1000;

const MASTER_ID = 'master';

function wrapContext(id: string): SealContext {
  return { table: 'keyring_keys', rowId: id, column: 'wrapped_key' };
}

export function newKeyId(): string {
  return `k${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export class Keyring {
  readonly #master: DataKey;
  readonly #store: KeyringStore;
  readonly #keys = new Map<string, DataKey>();
  readonly #derived = new Map<string, Buffer>();
  #activeId: string | undefined;
  #sealsLeftInBlock = 0;
  #reserving: Promise<void> | undefined;
  /** performance.now() when the active key id was last confirmed by the store (taken before the read). */
  #checkedAt = -Infinity;
  #checking: Promise<void> | undefined;
  readonly #now: () => Date;
  readonly checkIntervalMs: number;

  private constructor(masterKey: Buffer, store: KeyringStore, now: () => Date, checkIntervalMs: number) {
    this.#master = { id: MASTER_ID, key: masterKey };
    this.#store = store;
    this.#now = now;
    this.checkIntervalMs = checkIntervalMs;
  }

  /**
   * Opens every stored data key with the master key (throwing MasterKeyMismatch,
   * having written nothing, when it does not fit) and creates the first key on a
   * fresh database.
   */
  static async load(
    masterKey: Buffer,
    store: KeyringStore,
    now: () => Date = () => new Date(),
    options: { checkIntervalMs?: number } = {},
  ): Promise<Keyring> {
    const keyring = new Keyring(masterKey, store, now, options.checkIntervalMs ?? ACTIVE_KEY_CHECK_MS);
    await keyring.#reload();
    if (keyring.#activeId === undefined) await keyring.addKey();
    return keyring;
  }

  async #reload(): Promise<void> {
    const startedAt = performance.now();
    const stored = await this.#store.listKeys();
    this.#keys.clear();
    this.#activeId = undefined;
    for (const key of stored) {
      let material: Buffer;
      try {
        material = open(this.#master, key.wrappedKey, wrapContext(key.id));
      } catch (err) {
        if (err instanceof OpenError) throw new MasterKeyMismatch();
        throw err;
      }
      this.#keys.set(key.id, { id: key.id, key: material });
      if (key.status === 'active') this.#activeId = key.id;
    }
    this.#sealsLeftInBlock = 0;
    this.#checkedAt = startedAt;
  }

  /**
   * Re-reads the active key id when this process last confirmed it more than
   * `checkIntervalMs` ago, and reloads the keyring if another replica rotated:
   * a seal never uses a key that stopped being active longer ago than that.
   */
  async #confirmActive(): Promise<void> {
    if (performance.now() - this.#checkedAt < this.checkIntervalMs) return;
    this.#checking ??= (async () => {
      const startedAt = performance.now();
      const active = await this.#store.activeKeyId();
      if (active !== this.#activeId) await this.#reload();
      else this.#checkedAt = startedAt;
    })().finally(() => {
      this.#checking = undefined;
    });
    await this.#checking;
  }

  /**
   * A 256-bit key for one purpose (HKDF-SHA256 of the master key, the purpose
   * as info), e.g. 'latchkey provider integrity v1'. Keys for different
   * purposes are independent; none can open what the data keys seal. Only
   * someone holding the master key can compute one, which is the point: a
   * database-only writer cannot forge what it protects.
   */
  deriveKey(purpose: string): Buffer {
    let key = this.#derived.get(purpose);
    if (key === undefined) {
      key = deriveKey(this.#master.key, purpose);
      this.#derived.set(purpose, key);
    }
    return key;
  }

  /** HMAC-SHA256 of `data` under the key derived for `purpose`. */
  mac(purpose: string, data: string | Buffer): Buffer {
    return createHmac('sha256', this.deriveKey(purpose)).update(data).digest();
  }

  get activeKeyId(): string {
    if (this.#activeId === undefined) throw new Error('keyring has no active key');
    return this.#activeId;
  }

  /** Adds a fresh data key and makes it the active one; older keys keep opening what they sealed. */
  async addKey(): Promise<string> {
    const id = newKeyId();
    const material = randomBytes(32);
    await this.#store.insertActiveKey({
      id,
      wrappedKey: seal(this.#master, material, wrapContext(id)),
      status: 'active',
      createdAt: this.#now().toISOString(),
      sealsReserved: 0,
    });
    await this.#reload();
    return id;
  }

  /** Picks up a key another replica added. */
  async refresh(): Promise<void> {
    await this.#reload();
  }

  async seal(plaintext: Buffer | string, context: SealContext): Promise<string> {
    await this.#confirmActive();
    while (this.#sealsLeftInBlock === 0) {
      this.#reserving ??= this.#reserveBlock().finally(() => {
        this.#reserving = undefined;
      });
      await this.#reserving;
    }
    this.#sealsLeftInBlock -= 1;
    return seal(this.#dataKey(this.activeKeyId), plaintext, context);
  }

  async #reserveBlock(): Promise<void> {
    const total = await this.#store.reserveSeals(this.activeKeyId, SEAL_BLOCK);
    if (total === undefined) {
      // Rotated elsewhere since we last looked: take the new active key.
      await this.#reload();
      return;
    }
    if (total > SEAL_LIMIT_PER_KEY) {
      await this.addKey();
      return;
    }
    this.#sealsLeftInBlock = SEAL_BLOCK;
  }

  async open(envelope: string, context: SealContext): Promise<Buffer> {
    const keyId = envelopeKeyId(envelope);
    // Another replica may have rotated to a key this process has not loaded yet.
    if (!this.#keys.has(keyId)) await this.#reload();
    return open(this.#dataKey(keyId), envelope, context);
  }

  async openString(envelope: string, context: SealContext): Promise<string> {
    return (await this.open(envelope, context)).toString('utf8');
  }

  keyIdOf(envelope: string): string {
    return envelopeKeyId(envelope);
  }

  #dataKey(id: string): DataKey {
    const key = this.#keys.get(id);
    if (key === undefined) throw new OpenError(`unknown key id ${id}`);
    return key;
  }

  async retire(id: string): Promise<void> {
    if (id === this.#activeId) throw new Error('cannot retire the active key');
    await this.#store.setKeyStatus(id, 'retired');
  }

  /** Ids of keys that are neither active nor retired. */
  async nonRetiredKeyIds(): Promise<string[]> {
    const stored = await this.#store.listKeys();
    return stored.filter((k) => k.status !== 'retired').map((k) => k.id);
  }
}
