import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Keyring } from '../crypto/index.js';
import { Conflict, InvalidRequest, NotFound } from '../errors.js';
import { newId } from '../ids.js';
import { isUniqueViolation, type ProviderClientRow, type Store } from '../store/index.js';
import type { IntegrityChecker } from './integrity.js';
import type { Provider } from './registry.js';
import type { TokenEndpointAuthMethod } from './types.js';

/**
 * A provider's OAuth clients: its default one (on the provider row, used by
 * the consent flows and by connections that name no client) and any others
 * that imported grants were minted with (bring-your-own-app per tenant).
 */
export interface PublicProviderClient {
  /** `pcl_…`; null for the provider's default client. */
  id: string | null;
  default: boolean;
  clientId: string | null;
  hasClientSecret: boolean;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** How many connections refresh and revoke with this client. */
  connections: number;
  createdAt: string;
}

/** The client an import asked for, as `POST /v1/connections/import` takes it. */
export interface ClientChoice {
  clientId?: string;
  clientSecret?: string;
}

/** The default client's secret is sealed for its provider row. */
/** `PATCH /v1/providers/{name}/clients/{id}`: an operator changes a client for every connection using it. */
export interface ClientSecretInput {
  clientSecret?: string | null;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
}

export function secretContext(providerId: string) {
  return { table: 'providers', rowId: providerId, column: 'client_secret' };
}

export function clientSecretContext(providerClientId: string) {
  return { table: 'provider_clients', rowId: providerClientId, column: 'client_secret' };
}

/** Where the secret a provider view carries was sealed: its own row, or the client's. */
export function sealContextOf(provider: Pick<Provider, 'id' | 'providerClientId'>) {
  return provider.providerClientId === undefined ? secretContext(provider.id) : clientSecretContext(provider.providerClientId);
}

/** The provider as one of its clients sees the token endpoint: that client's id, secret and auth method. */
export function throughClient(provider: Provider, row: ProviderClientRow): Provider {
  return {
    ...provider,
    clientId: row.clientId,
    sealedClientSecret: row.clientSecret,
    tokenEndpointAuthMethod: row.tokenEndpointAuthMethod as TokenEndpointAuthMethod,
    providerClientId: row.id,
  };
}

/** Compares two secrets in time that does not depend on where they differ (digests equalise lengths). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

function checkClientId(clientId: string): string {
  const control = [...clientId].some((ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === '\u007f');
  if (clientId.length === 0 || clientId.length > 1000 || control) {
    throw new InvalidRequest('clientId must be 1 to 1000 characters without control characters');
  }
  return clientId;
}

export function providerClients(deps: { store: Store; keyring: Keyring; clock: Clock; integrity: IntegrityChecker }) {
  const { store, keyring, clock, integrity } = deps;

  /** A client row read for use: its MAC must fit (see integrity.ts). */
  async function verified(row: ProviderClientRow, provider: Provider): Promise<ProviderClientRow> {
    await integrity.verifyClient(row, provider.name);
    return row;
  }

  function sealed(row: ProviderClientRow): ProviderClientRow {
    return { ...row, integrity: integrity.clientMac(row) };
  }

  /** The provider seen through the client a connection's grant was minted with. */
  async function withClient(provider: Provider, providerClientId: string | null): Promise<Provider> {
    if (providerClientId === null) return provider;
    const row = await store.providerClients.findById(providerClientId);
    if (row === undefined || row.providerId !== provider.id) {
      throw new NotFound(`client ${providerClientId} of provider "${provider.name}" does not exist`);
    }
    return throughClient(provider, await verified(row, provider));
  }

  async function list(provider: Provider): Promise<PublicProviderClient[]> {
    const counts = await store.connections.countByProviderClient(provider.id);
    const out: PublicProviderClient[] = [];
    const view = (row: ProviderClientRow): PublicProviderClient => ({
      id: row.id,
      default: false,
      clientId: row.clientId,
      hasClientSecret: row.clientSecret !== null,
      tokenEndpointAuthMethod: row.tokenEndpointAuthMethod as TokenEndpointAuthMethod,
      connections: counts.get(row.id) ?? 0,
      createdAt: row.createdAt,
    });
    const defaultCount = counts.get(null) ?? 0;
    if (provider.clientId !== null || defaultCount > 0) {
      out.push({
        id: null,
        default: true,
        clientId: provider.clientId,
        hasClientSecret: provider.sealedClientSecret !== null,
        tokenEndpointAuthMethod: provider.tokenEndpointAuthMethod,
        connections: defaultCount,
        createdAt: provider.createdAt,
      });
    }
    for (const row of await store.providerClients.listByProvider(provider.id)) out.push(view(await verified(row, provider)));
    return out;
  }

  /** An operator's explicit change of a non-default client (the default one changes with PATCH /v1/providers/{name}). */
  async function update(provider: Provider, id: string, input: ClientSecretInput): Promise<PublicProviderClient> {
    const row = await store.providerClients.findById(id);
    if (row === undefined || row.providerId !== provider.id) {
      throw new NotFound(`provider "${provider.name}" has no client ${id} (see GET /v1/providers/${provider.name}/clients)`);
    }
    await verified(row, provider);
    const write: Partial<Pick<ProviderClientRow, 'clientSecret' | 'tokenEndpointAuthMethod'>> = {};
    if (input.clientSecret === null) write.clientSecret = null;
    else if (input.clientSecret !== undefined) write.clientSecret = await keyring.seal(input.clientSecret, clientSecretContext(id));
    if (input.tokenEndpointAuthMethod !== undefined) write.tokenEndpointAuthMethod = input.tokenEndpointAuthMethod;
    else if (input.clientSecret === null) write.tokenEndpointAuthMethod = 'none';
    else if (input.clientSecret !== undefined) {
      write.tokenEndpointAuthMethod = secretMethod(row.tokenEndpointAuthMethod as TokenEndpointAuthMethod);
    }
    if (Object.keys(write).length > 0) {
      const { integrity: mac } = sealed({ ...row, ...write });
      if (!(await store.providerClients.update(row, { ...write, integrity: mac as string }))) {
        throw new Conflict(`client ${id} of provider "${provider.name}" changed meanwhile; try again`);
      }
    }
    return (await list(provider)).find((c) => c.id === id) as PublicProviderClient;
  }

  /** Does `secret` (undefined: the import makes no claim) match the sealed one? */
  async function matches(sealed: string | null, context: ReturnType<typeof secretContext>, secret: string | undefined) {
    if (secret === undefined) return true;
    if (sealed === null) return false;
    return sameSecret(await keyring.openString(sealed, context), secret);
  }

  function inUse(provider: Provider, clientId: string): Conflict {
    return new Conflict(
      `provider "${provider.name}" already has client "${clientId}" with a different secret, and connections use it; ` +
        'an import never changes a client in use. Import with the secret that client has, or change it for every ' +
        `connection that uses it with PATCH /v1/providers/${provider.name}` +
        ' (latchkey providers update … --client-secret-stdin) for the default client, or ' +
        `PATCH /v1/providers/${provider.name}/clients/{id} for another`,
    );
  }

  /**
   * The client an imported grant was minted with: the default or another
   * client with that client id when the secret matches; else a new client.
   * A client with that id and a different secret is updated only while no
   * connection uses it, and refused (409) otherwise.
   */
  async function forImport(
    provider: Provider,
    choice: ClientChoice,
  ): Promise<{ providerClientId: string | null; created: boolean }> {
    if (choice.clientId === undefined) {
      if (choice.clientSecret !== undefined) throw new InvalidRequest('clientSecret needs the clientId it belongs to');
      return { providerClientId: null, created: false };
    }
    const clientId = checkClientId(choice.clientId);
    const secret = choice.clientSecret;
    if (provider.clientId === clientId) {
      const context = secretContext(provider.id);
      if (await matches(provider.sealedClientSecret, context, secret)) return { providerClientId: null, created: false };
      // The new MAC covers the whole row: read it again (checked), change the client, and write only if nothing else changed.
      const current = await store.providers.findById(provider.id);
      if (current === undefined) throw new NotFound(`provider "${provider.name}" does not exist`);
      await integrity.verify(current);
      if (current.clientSecret !== provider.sealedClientSecret) throw inUse(provider, clientId);
      const next = {
        ...current,
        clientSecret: await keyring.seal(secret as string, context),
        tokenEndpointAuthMethod: secretMethod(provider.tokenEndpointAuthMethod),
        updatedAt: clock.now().toISOString(),
      };
      const { clientSecret, tokenEndpointAuthMethod, updatedAt } = next;
      const updated = await store.providers.replaceClientSecretIfUnused(provider.id, current.integrity, {
        clientSecret,
        tokenEndpointAuthMethod,
        updatedAt,
        integrity: integrity.mac(next),
      });
      if (!updated) throw inUse(provider, clientId);
      return { providerClientId: null, created: false };
    }
    const existing = await store.providerClients.findByClientId(provider.id, clientId);
    if (existing !== undefined) {
      const context = clientSecretContext(existing.id);
      await verified(existing, provider);
      if (await matches(existing.clientSecret, context, secret)) return { providerClientId: existing.id, created: false };
      const write = {
        clientSecret: await keyring.seal(secret as string, context),
        tokenEndpointAuthMethod: secretMethod(existing.tokenEndpointAuthMethod as TokenEndpointAuthMethod),
      };
      const updated = await store.providerClients.replaceSecretIfUnused(existing, { ...write, integrity: sealed({ ...existing, ...write }).integrity });
      if (!updated) throw inUse(provider, clientId);
      return { providerClientId: existing.id, created: false };
    }
    const id = newId('pcl');
    const row: ProviderClientRow = sealed({
      id,
      providerId: provider.id,
      clientId,
      clientSecret: secret === undefined ? null : await keyring.seal(secret, clientSecretContext(id)),
      tokenEndpointAuthMethod: secret === undefined ? 'none' : secretMethod(provider.tokenEndpointAuthMethod),
      createdAt: clock.now().toISOString(),
      integrity: null,
    });
    try {
      await store.providerClients.insert(row);
    } catch (err) {
      // Another import made the same client a moment ago: decide against it instead.
      if (isUniqueViolation(err)) return forImport(provider, choice);
      throw err;
    }
    return { providerClientId: id, created: true };
  }

  /** Undoes a client `forImport` just made, when the import that asked for it failed. */
  async function removeUnused(providerClientId: string): Promise<void> {
    const row = await store.providerClients.findById(providerClientId);
    if (row === undefined) return;
    const counts = await store.connections.countByProviderClient(row.providerId);
    if ((counts.get(providerClientId) ?? 0) === 0) await store.providerClients.remove(providerClientId);
  }

  return { withClient, list, update, forImport, removeUnused };
}

/** A client with a secret authenticates with it: the provider's method, or Basic where the provider has none. */
function secretMethod(method: TokenEndpointAuthMethod): TokenEndpointAuthMethod {
  return method === 'none' ? 'client_secret_basic' : method;
}

export type ProviderClients = ReturnType<typeof providerClients>;
