import { openDb, type Db, type StoreOptions } from './dialect.js';
import { migrate } from './migrate.js';
import { keyStore } from './keys.js';
import { providerStore } from './providers.js';
import { providerClientStore } from './provider-clients.js';
import { connectionStore } from './connections.js';
import { sealedStore } from './sealed.js';
import { eventStore } from './events.js';
import { webhookStore } from './webhooks.js';
import { agentStore } from './agents.js';
import { agentKeyStore } from './agent-keys.js';
import { leaseStore } from './leases.js';
import { auditStore } from './audit.js';
import { oauthStateStore } from './oauth-states.js';
import { connectLinkStore } from './connect-links.js';
import { deviceAuthorizationStore } from './device-authorizations.js';
import { providerStatusStore } from './provider-status.js';
import { revocationStore } from './revocations.js';
import { mcpOauthStore } from './mcp-oauth.js';
import { mcpServerStore } from './mcp-servers.js';
import { proposalStore } from './proposals.js';
import { operatorStore } from './operators.js';
import { operatorSessionStore } from './operator-sessions.js';
import { operatorSignInLinkStore } from './operator-sign-in-links.js';
import { operatorKeyStore } from './operator-keys.js';

export { openDb, isForeignKeyViolation, isUniqueViolation, SQLITE_FILE, type Db, type DialectName, type StoreOptions } from './dialect.js';
export { migrate } from './migrate.js';
export type { Keyset } from './keyset.js';
export type { ProviderRow, ProviderStore } from './providers.js';
export type { ProviderClientRow, ProviderClientStore } from './provider-clients.js';
export type { ClaimFence, ConnectionRow, NewConnectionRow, ConnectionStore, ConnectionFilter, ConnectionPatch, TokenWrite, TokenWriteGuard } from './connections.js';
export type { StoredKeyRow } from './keys.js';
export { SEALED_COLUMNS, type SealedValue, type SealedStore } from './sealed.js';
export type { Json } from './json.js';
export type { EventRow, DeliveryRow, DueDelivery, EventStore } from './events.js';
export type { WebhookRow, WebhookStore } from './webhooks.js';
export type { AgentRow, AgentStore } from './agents.js';
export type { AgentKeyRow, AgentKeyStore } from './agent-keys.js';
export type { LeaseRow, LeaseStore } from './leases.js';
export type { AuditAnchor, AuditPosition, AuditEventRow, AuditBlockRow, AuditChainHead, AuditChainRow, AuditFilter, AuditStore } from './audit.js';
export type { OAuthStateRow, OAuthStateStore } from './oauth-states.js';
export type { ConnectLinkRow, ConnectLinkStore } from './connect-links.js';
export type { DeviceAuthorizationRow, DeviceAuthorizationStore } from './device-authorizations.js';
export type { ProviderStatusRow, ProviderStatusStore } from './provider-status.js';
export type { RevocationRow, RevocationStatus, RevocationStore } from './revocations.js';
export type { McpOauthRow, McpOauthStore } from './mcp-oauth.js';
export type { McpServerRow, McpServerStore } from './mcp-servers.js';
export type { ProposalRow, ProposalStatus, ProposalDecision, ProposalStore } from './proposals.js';
export type { OperatorRow, OperatorStore } from './operators.js';
export type { OperatorSessionRow, OperatorSessionStore } from './operator-sessions.js';
export type { OperatorSignInLinkRow, OperatorSignInLinkStore } from './operator-sign-in-links.js';
export type { OperatorKeyRow, OperatorKeyStore } from './operator-keys.js';

/** One repository per table, all over the same database. */
export interface Store {
  db: Db;
  keys: ReturnType<typeof keyStore>;
  providers: ReturnType<typeof providerStore>;
  providerClients: ReturnType<typeof providerClientStore>;
  connections: ReturnType<typeof connectionStore>;
  sealed: ReturnType<typeof sealedStore>;
  events: ReturnType<typeof eventStore>;
  webhooks: ReturnType<typeof webhookStore>;
  oauthStates: ReturnType<typeof oauthStateStore>;
  connectLinks: ReturnType<typeof connectLinkStore>;
  deviceAuthorizations: ReturnType<typeof deviceAuthorizationStore>;
  agents: ReturnType<typeof agentStore>;
  agentKeys: ReturnType<typeof agentKeyStore>;
  leases: ReturnType<typeof leaseStore>;
  audit: ReturnType<typeof auditStore>;
  providerStatus: ReturnType<typeof providerStatusStore>;
  revocations: ReturnType<typeof revocationStore>;
  mcpOauth: ReturnType<typeof mcpOauthStore>;
  mcpServers: ReturnType<typeof mcpServerStore>;
  proposals: ReturnType<typeof proposalStore>;
  operators: ReturnType<typeof operatorStore>;
  operatorSessions: ReturnType<typeof operatorSessionStore>;
  operatorSignInLinks: ReturnType<typeof operatorSignInLinkStore>;
  operatorKeys: ReturnType<typeof operatorKeyStore>;
  /** Runs `work` in one transaction, with every repository bound to it. */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function storeOn(db: Db): Store {
  return {
    db,
    keys: keyStore(db),
    providers: providerStore(db),
    providerClients: providerClientStore(db),
    connections: connectionStore(db),
    sealed: sealedStore(db),
    events: eventStore(db),
    webhooks: webhookStore(db),
    oauthStates: oauthStateStore(db),
    connectLinks: connectLinkStore(db),
    deviceAuthorizations: deviceAuthorizationStore(db),
    agents: agentStore(db),
    agentKeys: agentKeyStore(db),
    leases: leaseStore(db),
    audit: auditStore(db),
    providerStatus: providerStatusStore(db),
    revocations: revocationStore(db),
    mcpOauth: mcpOauthStore(db),
    mcpServers: mcpServerStore(db),
    proposals: proposalStore(db),
    operators: operatorStore(db),
    operatorSessions: operatorSessionStore(db),
    operatorSignInLinks: operatorSignInLinkStore(db),
    operatorKeys: operatorKeyStore(db),
    transaction: (work) => db.kysely.transaction().execute((trx) => work(storeOn({ ...db, kysely: trx }))),
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
