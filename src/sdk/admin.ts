import { HttpClient, enc, type ClientOptions } from './http.js';
import type {
  ConnectionFilter,
  ConnectionImport,
  ConnectionView,
  KeyRotation,
  PresetView,
  ProviderCreate,
  ProviderView,
} from './types.js';

/** The operator's client: every admin route of the REST API, one method each. */
export class LatchkeyAdmin {
  readonly http: HttpClient;

  constructor(options: ClientOptions & { adminToken?: string }) {
    this.http = new HttpClient({ ...options, token: options.adminToken ?? options.token });
  }

  presets(): Promise<PresetView[]> {
    return this.http.json('GET', '/v1/presets');
  }

  readonly providers = {
    create: (body: ProviderCreate): Promise<ProviderView> => this.http.json('POST', '/v1/providers', { body }),
    list: (): Promise<ProviderView[]> => this.http.json('GET', '/v1/providers'),
    get: (name: string): Promise<ProviderView> => this.http.json('GET', `/v1/providers/${enc(name)}`),
    update: (name: string, body: Partial<ProviderCreate>): Promise<ProviderView> =>
      this.http.json('PATCH', `/v1/providers/${enc(name)}`, { body }),
    remove: (name: string, options: { force?: boolean } = {}): Promise<{ deleted: boolean }> =>
      this.http.json('DELETE', `/v1/providers/${enc(name)}`, { query: { force: options.force ? 'true' : undefined } }),
  };

  readonly connections = {
    import: (body: ConnectionImport): Promise<ConnectionView> =>
      this.http.json('POST', '/v1/connections/import', { body }),
    list: (filter: ConnectionFilter = {}): Promise<ConnectionView[]> =>
      this.http.json('GET', '/v1/connections', { query: { ...filter } }),
    get: (idOrName: string): Promise<ConnectionView> => this.http.json('GET', `/v1/connections/${enc(idOrName)}`),
    refresh: (idOrName: string): Promise<ConnectionView> =>
      this.http.json('POST', `/v1/connections/${enc(idOrName)}/refresh`),
    remove: (idOrName: string): Promise<{ deleted: boolean; revokedAtProvider: boolean }> =>
      this.http.json('DELETE', `/v1/connections/${enc(idOrName)}`),
  };

  readonly keys = {
    rotate: (): Promise<KeyRotation> => this.http.json('POST', '/v1/keys/rotate'),
  };
}
