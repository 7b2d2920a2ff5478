import type { Db } from './dialect.js';
import type { Json } from './json.js';
import { fromFlag, fromJson, toFlag, toJson } from './json.js';
import type { ProvidersTable } from './schema.js';

/** A provider row with JSON and flags decoded; `clientSecret` stays sealed. */
export interface ProviderRow {
  id: string;
  name: string;
  displayName: string;
  preset: string | null;
  issuer: string | null;
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
  revocationEndpoint: string | null;
  deviceAuthorizationEndpoint: string | null;
  userinfoEndpoint: string | null;
  introspectionEndpoint: string | null;
  clientId: string | null;
  clientSecret: string | null;
  tokenEndpointAuthMethod: string;
  scopes: string[];
  pkce: boolean;
  authorizeParams: Record<string, string>;
  apiBaseUrl: string | null;
  allowedHosts: string[];
  capabilities: Json[];
  quirks: Record<string, Json>;
  issParameterSupported: boolean;
  createdAt: string;
  updatedAt: string;
  /** MAC of the security-relevant fields, written and checked by providers/integrity.ts. */
  integrity: string | null;
}

function decode(r: ProvidersTable): ProviderRow {
  return {
    ...r,
    scopes: fromJson<string[]>(r.scopes, []),
    pkce: fromFlag(r.pkce),
    authorizeParams: fromJson<Record<string, string>>(r.authorizeParams, {}),
    allowedHosts: fromJson<string[]>(r.allowedHosts, []),
    capabilities: fromJson<Json[]>(r.capabilities, []),
    quirks: fromJson<Record<string, Json>>(r.quirks, {}),
    issParameterSupported: fromFlag(r.issParameterSupported),
  };
}

function encode(p: ProviderRow): ProvidersTable {
  return {
    ...p,
    scopes: toJson(p.scopes),
    pkce: toFlag(p.pkce),
    authorizeParams: toJson(p.authorizeParams),
    allowedHosts: toJson(p.allowedHosts),
    capabilities: toJson(p.capabilities),
    quirks: toJson(p.quirks),
    issParameterSupported: toFlag(p.issParameterSupported),
  };
}

export function providerStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: ProviderRow): Promise<void> {
      await k.insertInto('providers').values(encode(row)).execute();
    },
    /** Replaces every column of an existing row. */
    async replace(row: ProviderRow): Promise<void> {
      const { id, ...rest } = encode(row);
      await k.updateTable('providers').set(rest).where('id', '=', id).execute();
    },
    /**
     * Replaces the default client's secret only while no connection uses the
     * default client and the row is still the one read (its integrity MAC
     * unchanged, so the new MAC, computed over that row, fits).
     */
    async replaceClientSecretIfUnused(
      id: string,
      expectedIntegrity: string | null,
      write: { clientSecret: string | null; tokenEndpointAuthMethod: string; updatedAt: string; integrity: string },
    ): Promise<boolean> {
      const result = await k
        .updateTable('providers')
        .set(write)
        .where('id', '=', id)
        .where((eb) => (expectedIntegrity === null ? eb('integrity', 'is', null) : eb('integrity', '=', expectedIntegrity)))
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('connections')
                .select('connections.id')
                .where('connections.providerId', '=', id)
                .where('connections.providerClientId', 'is', null),
            ),
          ),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async findByName(name: string): Promise<ProviderRow | undefined> {
      const r = await k.selectFrom('providers').selectAll().where('name', '=', name).executeTakeFirst();
      return r === undefined ? undefined : decode(r);
    },
    async findById(id: string): Promise<ProviderRow | undefined> {
      const r = await k.selectFrom('providers').selectAll().where('id', '=', id).executeTakeFirst();
      return r === undefined ? undefined : decode(r);
    },
    async list(): Promise<ProviderRow[]> {
      const rows = await k.selectFrom('providers').selectAll().orderBy('name').execute();
      return rows.map(decode);
    },
    /** Fills in a MAC where there is none yet: only on the start that applied migration 0014. */
    async setIntegrityIfMissing(id: string, integrity: string): Promise<void> {
      await k.updateTable('providers').set({ integrity }).where('id', '=', id).where('integrity', 'is', null).execute();
    },
    async remove(id: string): Promise<void> {
      await k.deleteFrom('providers').where('id', '=', id).execute();
    },
  };
}

export type ProviderStore = ReturnType<typeof providerStore>;
