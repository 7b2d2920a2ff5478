import { openDb, type Db, type StoreOptions } from './dialect.js';
import { migrate } from './migrate.js';
import { keyStore } from './keys.js';
import { providerStore } from './providers.js';
import { connectionStore } from './connections.js';
import { sealedStore } from './sealed.js';

export { openDb, isUniqueViolation, SQLITE_FILE, type Db, type DialectName, type StoreOptions } from './dialect.js';
export { migrate } from './migrate.js';
export type { ProviderRow, ProviderStore } from './providers.js';
export type { ConnectionRow, ConnectionStore, ConnectionFilter, ConnectionPatch, TokenWrite } from './connections.js';
export type { StoredKeyRow } from './keys.js';
export { SEALED_COLUMNS, type SealedValue, type SealedStore } from './sealed.js';
export type { Json } from './json.js';

/** One repository per table, all over the same database. */
export interface Store {
  db: Db;
  keys: ReturnType<typeof keyStore>;
  providers: ReturnType<typeof providerStore>;
  connections: ReturnType<typeof connectionStore>;
  sealed: ReturnType<typeof sealedStore>;
  close(): Promise<void>;
}

export function storeOn(db: Db): Store {
  return {
    db,
    keys: keyStore(db),
    providers: providerStore(db),
    connections: connectionStore(db),
    sealed: sealedStore(db),
    close: () => db.close(),
  };
}

/** Opens the database without migrating: call `migrate(store.db)` once the master key checks out. */
export async function openStore(options: StoreOptions): Promise<Store> {
  return storeOn(await openDb(options));
}

export async function openMigratedStore(options: StoreOptions): Promise<Store> {
  const store = await openStore(options);
  await migrate(store.db);
  return store;
}
