import { randomBytes } from 'node:crypto';
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
  /** Atomically adds `count` to the key's reserved seal count and returns the new total. */
  reserveSeals(id: string, count: number): Promise<number>;
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
  #activeId: string | undefined;
  #sealsLeftInBlock = 0;
  #reserving: Promise<void> | undefined;
  readonly #now: () => Date;

  private constructor(masterKey: Buffer, store: KeyringStore, now: () => Date) {
    this.#master = { id: MASTER_ID, key: masterKey };
    this.#store = store;
    this.#now = now;
  }

  /**
   * Opens every stored data key with the master key (throwing MasterKeyMismatch,
   * having written nothing, when it does not fit) and creates the first key on a
   * fresh database.
   */
  static async load(masterKey: Buffer, store: KeyringStore, now: () => Date = () => new Date()): Promise<Keyring> {
    const keyring = new Keyring(masterKey, store, now);
    await keyring.#reload();
    if (keyring.#activeId === undefined) await keyring.addKey();
    return keyring;
  }

  async #reload(): Promise<void> {
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
