import { join } from 'node:path';
import { systemClock, type Clock } from './clock.js';
import { isLoopbackOrigin, type Config } from './config/index.js';
import { resolveAdminToken, type AdminCredential } from './config/admin-token.js';
import { connectionRegistry, type ConnectionRegistry } from './connections/index.js';
import { Keyring, loadMasterKey, rotateKeys, type RotationResult } from './crypto/index.js';
import { agentRegistry, leaseService, proposalService, type AgentRegistry, type LeaseService, type ProposalService } from './agents/index.js';
import { AuditRetention, CHECKPOINT_DIR, SYSTEM_ACTOR, auditLog, type AuditLog } from './audit/index.js';
import { Forwarder, UPSTREAM_TIMEOUTS, brokerService, type BrokerService } from './broker/index.js';
import { eventOutbox, safeEmit, webhookRegistry, WebhookDelivery, type EmitEvent, type WebhookRegistry } from './events/index.js';
import { mcpGateway, type McpGateway } from './gateway/index.js';
import { createLogger, type Logger } from './log.js';
import { Outbound, parseNetwork, type Network, type OutboundOptions } from './net/index.js';
import { oauthService, type OAuthService } from './oauth/index.js';
import { operatorRegistry, type OperatorRegistry } from './operators/index.js';
import { providerRegistry, type ProviderRegistry } from './providers/index.js';
import { SEALED_COLUMNS, migrate, openStore, type Store } from './store/index.js';
import { BackgroundRefresher, RevocationWorker, openTokens, sealTokens, tokenService, type LatchkeyTokens } from './tokens/index.js';

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
  /** The people who run Latchkey: roles, passwords, console sessions, sign-in links, operator API keys. */
  operators: OperatorRegistry;
  /** The hash-chained audit log; `audit.admin(action, ...)` records an operator's change. */
  audit: AuditLog;
  /** The token-injecting proxy and capability invoke. */
  broker: BrokerService;
  /** Raw-token leases for agents whose policy allows them. */
  leases: LeaseService;
  /** Access proposals: an agent asks for a rule, an operator approves or denies it. */
  proposals: ProposalService;
  /** Upstream MCP servers behind Latchkey and their tools (the MCP gateway). */
  gateway: McpGateway;
  /** The token lifecycle: valid tokens, single-flight refresh, revocation. */
  tokens: LatchkeyTokens;
  /** Deletes connections with durable revocation at the provider, and retries what failed (started here, stopped by close()). */
  revocations: RevocationWorker;
  /** Refreshes tokens ahead of expiry (started here, stopped by close()). */
  refresher: BackgroundRefresher;
  /** Prunes the audit log past LATCHKEY_AUDIT_RETENTION, when set (started here, stopped by close()). */
  retention: AuditRetention;
  /** The webhook outbox: `emit` records an event, `delivery` sends it, `webhooks` are the subscriptions. */
  events: { emit: EmitEvent; webhooks: WebhookRegistry; delivery: WebhookDelivery };
  /** The address guard every outbound connection dials through. */
  outbound: Outbound;
  /** Checks the admin token; the token itself is not kept. */
  adminCredential: AdminCredential;
  /** Set only on the start that created the admin token, so it can be shown once. */
  newAdminToken: string | undefined;
  rotateKeys(): Promise<RotationResult>;
  close(): Promise<void>;
}

export interface LatchkeyOptions {
  clock?: Clock;
  logger?: Logger;
  /** How outbound host names resolve (default: the system resolver); tests point made-up names here. */
  lookup?: OutboundOptions['lookup'];
  /** Sees each address an outbound connection dials; tests use it as a tripwire against leaving loopback. */
  onDial?: OutboundOptions['onDial'];
  /** The bound on each exchange with an upstream MCP server (default 60 s); tests shorten it. */
  gatewayTimeoutMs?: number;
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
    let applied: string[];
    const now = (): Date => clock.now();
    if (hasKeys) {
      keyring = await Keyring.load(masterKey, store.keys, now);
      applied = await migrate(store.db);
    } else {
      applied = await migrate(store.db);
      keyring = await Keyring.load(masterKey, store.keys, now);
    }
    const adminCredential = resolveAdminToken(config);
    if (adminCredential.migrated) {
      logger.warn(
        { dataDir: config.dataDir },
        'the admin token was kept in clear in the data directory; only its hash is kept now (admin-token.sha256). The token is unchanged: give it to the CLI as LATCHKEY_ADMIN_TOKEN, or make a new one with `latchkey admin-token reset`',
      );
    }
    // One address guard for every outbound call: proxy, provider endpoints, discovery, webhooks.
    const outbound = new Outbound({
      allowLoopback: config.allowHttpLoopback,
      privateNetworks: config.allowedPrivateNetworks.map((cidr) => parseNetwork(cidr) as Network),
      ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
      ...(options.onDial === undefined ? {} : { onDial: options.onDial }),
    });
    const integrityReported = new Set<string>();
    const providers = providerRegistry({
      store,
      keyring,
      clock,
      allowHttpLoopback: config.allowHttpLoopback,
      fetch: outbound.fetch,
      onIntegrityFailure: async (failure) => {
        logger.error(failure, 'a provider failed its integrity check: its configuration was changed outside Latchkey; it is not used');
        // Audited once per row and process; `audit` is built below, before any request can read a provider.
        if (integrityReported.has(failure.id)) return;
        integrityReported.add(failure.id);
        await audit
          .record({ actor: SYSTEM_ACTOR, action: 'provider.integrity_failed', outcome: 'failure', detail: failure })
          .catch((err: unknown) => logger.error({ err }, 'could not audit a failed provider integrity check'));
      },
    });
    // Trust on upgrade: the start that added the integrity column MACs the rows already there (SQL cannot).
    if (applied.includes('0014_provider_integrity')) {
      const sealed = await providers.sealUpgradedRows();
      if (sealed > 0) logger.info({ rows: sealed }, 'provider rows from before 0014 now carry an integrity MAC');
    }
    const connections = connectionRegistry({ store, clock, providers });
    const webhooks = webhookRegistry({ store, keyring, clock, allowHttpLoopback: config.allowHttpLoopback });
    const delivery = new WebhookDelivery({ store, webhooks, clock, logger, fetch: outbound.fetch }, { intervalSeconds: config.webhookIntervalSeconds });
    const emit = safeEmit(eventOutbox({ store, clock, logger, onAppended: () => delivery.nudge() }), logger);
    const audit = auditLog({
      store: store.audit,
      clock,
      logger,
      keying: {
        chainKey: keyring.deriveKey('latchkey audit chain v1'),
        checkpointKey: keyring.deriveKey('latchkey audit checkpoint v1'),
        checkpointDir: join(config.dataDir, CHECKPOINT_DIR),
        // A receiver's copy is the evidence a database writer cannot reach; the dedupe key makes a retried emit one event.
        published: (cp) => emit('audit.checkpoint', { ...cp }, { dedupeKey: `${cp.chainId}:${cp.block}` }),
      },
    });
    if (config.insecurePublicUrl && !config.publicUrl.startsWith('https:') && !isLoopbackOrigin(config.publicUrl)) {
      logger.warn({ publicUrl: config.publicUrl }, 'LATCHKEY_INSECURE_PUBLIC_URL is set: authorization codes and cookies travel in clear to the public URL');
      await audit.record({ actor: SYSTEM_ACTOR, action: 'config.insecure', outcome: 'success', detail: { setting: 'LATCHKEY_INSECURE_PUBLIC_URL', publicUrl: config.publicUrl } });
    }
    const oauth = oauthService({
      config,
      clock,
      logger,
      store,
      keyring,
      providers,
      connections,
      sealTokens: (connectionId, tokens) => sealTokens(keyring, connectionId, tokens),
      openTokens: (connectionId, sealed) => openTokens(keyring, connectionId, sealed),
      emit,
      fetch: outbound.fetch,
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
        fetch: outbound.fetch,
        backoff: { baseSeconds: 2, maxSeconds: 300 },
        unauthorizedCooldownSeconds: config.unauthorizedRefreshCooldownSeconds,
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
    const revocations = new RevocationWorker(
      {
        store,
        keyring,
        providers,
        clock,
        logger,
        emit,
        settings: {
          maxAttempts: config.revocationMaxAttempts,
          maxAgeSeconds: config.revocationMaxAgeSeconds,
          backoff: { baseSeconds: 30, maxSeconds: 3600 },
          allowHttpLoopback: config.allowHttpLoopback,
          timeoutSeconds: config.tokenRequestTimeoutSeconds,
          fetch: outbound.fetch,
        },
      },
      { intervalSeconds: config.revocationIntervalSeconds },
    );
    revocations.start();
    delivery.start();
    const retention = new AuditRetention({ prune: (before) => audit.prune(before), clock, logger }, config.auditRetentionSeconds);
    retention.start();
    const agents = agentRegistry({ store, clock });
    const operators = operatorRegistry({
      store,
      clock,
      settings: {
        idleTimeoutSeconds: config.sessionIdleTimeoutSeconds,
        maxAgeSeconds: config.sessionMaxAgeSeconds,
        signInLinkTtlSeconds: 15 * 60,
        csrfKey: keyring.deriveKey('latchkey console csrf v1'),
      },
    });
    const forwarder = new Forwarder({ bodyLimit: config.bodyLimit, ...UPSTREAM_TIMEOUTS }, outbound);
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
    const leases = leaseService({ store, keyring, clock, tokens, connections, audit, refreshSkewSeconds: config.refreshSkewSeconds, publicUrl: () => config.publicUrl });
    const proposals = proposalService({ store, clock, connections, providers, audit, emit, policyChanged: () => agents.invalidate() });
    const gateway = mcpGateway({
      store,
      clock,
      logger,
      providers,
      connections,
      tokens,
      audit,
      fetch: outbound.fetch,
      allowHttpLoopback: config.allowHttpLoopback,
      publicUrl: () => config.publicUrl,
      deleteConnection: (connection) => revocations.deleteConnection(connection),
      ...(options.gatewayTimeoutMs === undefined ? {} : { upstreamTimeoutMs: options.gatewayTimeoutMs }),
    });
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
      operators,
      audit,
      broker,
      leases,
      proposals,
      gateway,
      tokens,
      refresher,
      revocations,
      retention,
      events: { emit, webhooks, delivery },
      outbound,
      adminCredential,
      newAdminToken: adminCredential.created,
      rotateKeys: () =>
        rotateKeys(keyring, {
          columns: SEALED_COLUMNS,
          page: (t, c, after, limit) => store.sealed.page(t, c, after, limit),
          replace: (value, envelope) => store.sealed.replace(value, envelope),
        }),
      close: async () => {
        await retention.stop();
        await refresher.stop();
        await revocations.stop();
        await delivery.stop();
        await oauth.devicePoller.stop();
        await broker.close();
        await outbound.close();
        // Events still queued for the next group commit are written before the store closes, then the last checkpoint.
        await audit.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
