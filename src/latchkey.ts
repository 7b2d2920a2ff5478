import { join } from 'node:path';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/index.js';
import { resolveAdminToken } from './config/admin-token.js';
import { connectionRegistry, type ConnectionRegistry } from './connections/index.js';
import { Keyring, loadMasterKey, rotateKeys, type RotationResult } from './crypto/index.js';
import { agentRegistry, leaseService, type AgentRegistry, type LeaseService } from './agents/index.js';
import { AuditRetention, SYSTEM_ACTOR, auditLog, type AuditLog } from './audit/index.js';
import { Forwarder, UPSTREAM_TIMEOUTS, brokerService, type BrokerService } from './broker/index.js';
import { eventOutbox, safeEmit, webhookRegistry, WebhookDelivery, type EmitEvent, type WebhookRegistry } from './events/index.js';
import { createLogger, type Logger } from './log.js';
import { oauthService, type OAuthService } from './oauth/index.js';
import { providerRegistry, type ProviderRegistry } from './providers/index.js';
import { SEALED_COLUMNS, migrate, openStore, type Store } from './store/index.js';
import { BackgroundRefresher, sealTokens, tokenService, type LatchkeyTokens } from './tokens/index.js';

/** Everything the shells (server, cli, mcp) use, built from one config. */
export interface Latchkey {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: Store;
  keyring: Keyring;
  providers: ProviderRegistry;
  connections: ConnectionRegistry;
  /** The consent flows (authorization code, device, client credentials) and the device poller. */
  oauth: OAuthService;
  /** Agent identities, keys and policies. */
  agents: AgentRegistry;
  /** The hash-chained audit log; `audit.admin(action, ...)` records an operator's change. */
  audit: AuditLog;
  /** The token-injecting proxy and capability invoke. */
  broker: BrokerService;
  /** Raw-token leases for agents whose policy allows them. */
  leases: LeaseService;
  /** The token lifecycle: valid tokens, single-flight refresh, revocation. */
  tokens: LatchkeyTokens;
  /** Refreshes tokens ahead of expiry (started here, stopped by close()). */
  refresher: BackgroundRefresher;
  /** Prunes the audit log past LATCHKEY_AUDIT_RETENTION, when set (started here, stopped by close()). */
  retention: AuditRetention;
  /** The webhook outbox: `emit` records an event, `delivery` sends it, `webhooks` are the subscriptions. */
  events: { emit: EmitEvent; webhooks: WebhookRegistry; delivery: WebhookDelivery };
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
    const webhooks = webhookRegistry({ store, keyring, clock, allowHttpLoopback: config.allowHttpLoopback });
    const delivery = new WebhookDelivery({ store, webhooks, clock, logger }, { intervalSeconds: config.webhookIntervalSeconds });
    const emit = safeEmit(eventOutbox({ store, clock, logger, onAppended: () => delivery.nudge() }), logger);
    const audit = auditLog({ store: store.audit, clock, logger });
    const oauth = oauthService({
      config,
      clock,
      logger,
      store,
      keyring,
      providers,
      connections,
      sealTokens: (connectionId, tokens) => sealTokens(keyring, connectionId, tokens),
      emit,
    }, {
      devicePoller: {
        onFinished: async (connectionId, outcome) => {
          const connection = await connections.find(connectionId);
          await audit.record({
            actor: SYSTEM_ACTOR,
            action: 'connection.create',
            connection: connection?.name ?? connectionId,
            outcome: outcome === 'active' ? 'success' : 'failure',
            detail: { grantType: 'device_code', ...(connection?.lastError ? { reason: connection.lastError } : {}) },
          });
        },
      },
    });
    oauth.devicePoller.start();
    const tokens = tokenService({
      store,
      keyring,
      providers,
      clock,
      logger,
      emit,
      settings: {
        skewSeconds: config.refreshSkewSeconds,
        claimTtlSeconds: config.refreshClaimTtlSeconds,
        tokenTimeoutSeconds: config.tokenRequestTimeoutSeconds,
        allowHttpLoopback: config.allowHttpLoopback,
        backoff: { baseSeconds: 2, maxSeconds: 300 },
        publicUrl: () => config.publicUrl,
        spillDir: join(config.dataDir, 'spill'),
      },
    });
    const refresher = new BackgroundRefresher(
      { store, clock, logger, tokens, emit },
      {
        intervalSeconds: config.refresherIntervalSeconds,
        leadSeconds: config.refresherLeadSeconds,
        concurrency: config.refresherConcurrency,
        skewSeconds: config.refreshSkewSeconds,
      },
    );
    refresher.start();
    delivery.start();
    const retention = new AuditRetention({ prune: (before) => audit.prune(before), clock, logger }, config.auditRetentionSeconds);
    retention.start();
    const agents = agentRegistry({ store, clock });
    const forwarder = new Forwarder({ bodyLimit: config.bodyLimit, ...UPSTREAM_TIMEOUTS });
    const broker = brokerService({
      connections,
      providers,
      tokens,
      audit,
      clock,
      forwarder,
      allowHttpLoopback: config.allowHttpLoopback,
      publicUrl: () => config.publicUrl,
    });
    const leases = leaseService({ store, keyring, clock, tokens, connections, audit, refreshSkewSeconds: config.refreshSkewSeconds });
    return {
      config,
      clock,
      logger,
      store,
      keyring,
      providers,
      connections,
      oauth,
      agents,
      audit,
      broker,
      leases,
      tokens,
      refresher,
      retention,
      events: { emit, webhooks, delivery },
      adminToken,
      newAdminToken: created ? adminToken : undefined,
      rotateKeys: () =>
        rotateKeys(keyring, {
          columns: SEALED_COLUMNS,
          page: (t, c, after, limit) => store.sealed.page(t, c, after, limit),
          replace: (value, envelope) => store.sealed.replace(value, envelope),
        }),
      close: async () => {
        await retention.stop();
        await refresher.stop();
        await delivery.stop();
        await oauth.devicePoller.stop();
        await broker.close();
        // Events still queued for the next group commit are written before the store closes.
        await audit.flush();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
