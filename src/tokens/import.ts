import type { Clock } from '../clock.js';
import type { ConnectionRegistry, Connection } from '../connections/index.js';
import type { Keyring } from '../crypto/index.js';
import { InvalidRequest } from '../errors.js';
import type { EmitEvent } from '../events/index.js';
import { newId } from '../ids.js';
import { checkApiBaseUrl, type Provider, type ProviderRegistry } from '../providers/index.js';
import type { Json } from '../store/index.js';
import { sealTokens } from './vault.js';

/** Tokens obtained elsewhere, as `POST /v1/connections/import` takes them. */
export interface ImportInput {
  name?: string;
  provider: string;
  subject?: string;
  environment?: string;
  accessToken?: string;
  refreshToken?: string;
  idToken?: string;
  expiresAt?: string;
  scopes?: string[];
  tokenType?: string;
  metadata?: Record<string, Json>;
  /** The connection's own API base (a Salesforce token response's instance_url). */
  apiBaseUrl?: string;
  /** The OAuth client the tokens were issued to, when it is not the provider's default one. */
  clientId?: string;
  clientSecret?: string;
}

interface ImportDeps {
  keyring: Keyring;
  providers: ProviderRegistry;
  connections: ConnectionRegistry;
  clock: Clock;
  config: { allowHttpLoopback: boolean };
  /** When given, `connection.created` goes to the outbox. */
  events?: { emit: EmitEvent };
}

/**
 * Creates an active connection from imported tokens in a single insert (the
 * tokens are sealed for the new row's id first), so nothing is half-written:
 * a client made for it is removed again when the insert fails.
 * A refresh-only import has no expiry and is refreshed on first use.
 */
export async function importConnection(deps: ImportDeps, input: ImportInput): Promise<Connection> {
  if (!input.accessToken && !input.refreshToken) {
    throw new InvalidRequest('at least one of accessToken or refreshToken is required');
  }
  let expiresAt: string | null = null;
  if (input.expiresAt !== undefined) {
    const at = new Date(input.expiresAt);
    if (Number.isNaN(at.getTime())) throw new InvalidRequest('expiresAt must be an ISO 8601 time');
    expiresAt = at.toISOString();
  }
  if (!input.accessToken) expiresAt = null;
  const apiBaseUrl =
    input.apiBaseUrl === undefined ? null : checkApiBaseUrl('apiBaseUrl', input.apiBaseUrl, deps.config.allowHttpLoopback);
  const provider = await deps.providers.get(input.provider);
  // Tokens refresh only with the client they were issued to: select or make it, never rewrite one in use.
  const client = await deps.providers.clientForImport(provider, {
    ...(input.clientId === undefined ? {} : { clientId: input.clientId }),
    ...(input.clientSecret === undefined ? {} : { clientSecret: input.clientSecret }),
  });
  try {
    return await insertImported(deps, input, provider, client.providerClientId, expiresAt, apiBaseUrl);
  } catch (err) {
    if (client.created && client.providerClientId !== null) {
      await deps.providers.removeUnusedClient(client.providerClientId).catch(() => undefined);
    }
    throw err;
  }
}

async function insertImported(
  deps: ImportDeps,
  input: ImportInput,
  provider: Provider,
  providerClientId: string | null,
  expiresAt: string | null,
  apiBaseUrl: string | null,
): Promise<Connection> {
  const id = newId('conn');
  const sealed = await sealTokens(deps.keyring, id, {
    ...(input.accessToken ? { accessToken: input.accessToken } : {}),
    ...(input.refreshToken ? { refreshToken: input.refreshToken } : {}),
    ...(input.idToken ? { idToken: input.idToken } : {}),
  });
  const connection = await deps.connections.create({
    id,
    ...(input.name === undefined ? {} : { name: input.name }),
    provider,
    subject: input.subject ?? null,
    ...(input.environment === undefined ? {} : { environment: input.environment }),
    grantType: 'imported',
    status: 'active',
    scopes: input.scopes ?? [],
    metadata: input.metadata ?? {},
    apiBaseUrl,
    providerClientId,
    sealedTokens: sealed,
    tokenType: input.tokenType ?? 'Bearer',
    expiresAt,
    lastRefreshedAt: null,
  });
  await deps.events?.emit('connection.created', {
    id: connection.id,
    name: connection.name,
    provider: provider.name,
    status: connection.status,
    grantType: connection.grantType,
  });
  return connection;
}
