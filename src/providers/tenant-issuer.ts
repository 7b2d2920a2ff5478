import * as oidc from 'openid-client';
import { clientAuthentication, providerConfiguration, type ProviderClientOptions } from './oauth-client.js';
import type { Provider } from './registry.js';
import { isLoopbackHost } from './urls.js';

/** Microsoft's multi-tenant issuer names the tenant by this placeholder. */
export const TENANT_PLACEHOLDER = '{tenantid}';

/**
 * Where openid-client recognises Microsoft Entra ID. It then checks an ID
 * token's `iss` against the issuer template with the token's own `tid`
 * substituted — the validation a multi-tenant app needs, and only reachable
 * through discovery of this origin.
 */
const ENTRA_COMMON = 'https://login.microsoftonline.com/common/v2.0';

/**
 * The openid-client configuration for a provider, like providerConfiguration,
 * except that an issuer with `{tenantid}` (Microsoft's
 * `https://login.microsoftonline.com/{tenantid}/v2.0`) is validated as a
 * template. The discovery runs against the provider's stored metadata,
 * answered locally: no network request is made.
 */
export async function clientConfigurationOf(provider: Provider, options: ProviderClientOptions): Promise<oidc.Configuration> {
  const config = providerConfiguration(provider, options);
  if (provider.issuer === null || !provider.issuer.includes(TENANT_PLACEHOLDER)) return config;
  const metadata = JSON.stringify(config.serverMetadata());
  const templated = await oidc.discovery(
    new URL(ENTRA_COMMON),
    provider.clientId ?? '',
    undefined,
    clientAuthentication(provider, options.clientSecret),
    { [oidc.customFetch]: async () => new Response(metadata, { status: 200, headers: { 'content-type': 'application/json' } }) },
  );
  templated.timeout = config.timeout;
  const quirky = config[oidc.customFetch];
  if (quirky !== undefined) templated[oidc.customFetch] = quirky;
  if (options.allowHttpLoopback && usesHttpLoopback(config.serverMetadata())) oidc.allowInsecureRequests(templated);
  return templated;
}

function usesHttpLoopback(metadata: oidc.ServerMetadata): boolean {
  return Object.values(metadata).some((value) => typeof value === 'string' && value.startsWith('http://') && isLoopbackHost(new URL(value).hostname));
}
