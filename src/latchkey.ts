import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/index.js';
import { resolveAdminToken } from './config/admin-token.js';
import { connectionRegistry, type ConnectionRegistry } from './connections/index.js';
import { Keyring, loadMasterKey, rotateKeys, type RotationResult } from './crypto/index.js';
import { createLogger, type Logger } from './log.js';
import { providerRegistry, type ProviderRegistry } from './providers/index.js';
import { SEALED_COLUMNS, migrate, openStore, type Store } from './store/index.js';

/** Everything the shells (server, cli, mcp) use, built from one config. */
export interface Latchkey {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: Store;
  keyring: Keyring;
  providers: ProviderRegistry;
  connections: ConnectionRegistry;
  adminToken: string;
  /** Set only on the start that created the admin token, so it can be shown once. */
  newAdminToken: string | undefined;
  rotateKeys(): Promise<RotationResult>;
  close(): Promise<void>;
}

export interface LatchkeyOptions {
  clock?: Clock;
  logger?: Logger;
}

/**
 * Opens the store, checks the master key before anything is written (a wrong
 * key must leave the database untouched), migrates, and wires the modules.
 */
export async function createLatchkey(config: Config, options: LatchkeyOptions = {}): Promise<Latchkey> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const hasKeys = await store.keys.hasKeys();
    const masterKey = loadMasterKey({ fromEnv: config.masterKey, dataDir: config.dataDir, databaseHasKeys: hasKeys });
    let keyring: Keyring;
    const now = (): Date => clock.now();
    if (hasKeys) {
      keyring = await Keyring.load(masterKey, store.keys, now);
      await migrate(store.db);
    } else {
      await migrate(store.db);
      keyring = await Keyring.load(masterKey, store.keys, now);
    }
    const { token: adminToken, created } = resolveAdminToken(config);
    const providers = providerRegistry({ store, keyring, clock, allowHttpLoopback: config.allowHttpLoopback });
    const connections = connectionRegistry({ store, clock, providers });
    return {
      config,
      clock,
      logger,
      store,
      keyring,
      providers,
      connections,
      adminToken,
      newAdminToken: created ? adminToken : undefined,
      rotateKeys: () =>
        rotateKeys(keyring, {
          columns: SEALED_COLUMNS,
          page: (t, c, after, limit) => store.sealed.page(t, c, after, limit),
          replace: (value, envelope) => store.sealed.replace(value, envelope),
        }),
      close: () => store.close(),
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
