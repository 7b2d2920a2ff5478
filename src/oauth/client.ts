import type * as oidc from 'openid-client';
import { InvalidRequest } from '../errors.js';
import { clientConfigurationOf, type Provider } from '../providers/index.js';
import type { OAuthDeps } from './deps.js';

/**
 * The openid-client configuration for a provider, with its client secret
 * opened only when the request authenticates at the token endpoint.
 */
export async function clientConfiguration(
  deps: Pick<OAuthDeps, 'providers' | 'config' | 'fetch'>,
  provider: Provider,
  options: { withSecret: boolean; fetch?: oidc.CustomFetch; timeout?: number } = { withSecret: true },
): Promise<oidc.Configuration> {
  if (provider.clientId === null) {
    throw new InvalidRequest(`provider "${provider.name}" has no clientId; set one with PATCH /v1/providers/${provider.name}`);
  }
  const clientSecret = options.withSecret ? await deps.providers.clientSecretOf(provider) : undefined;
  return clientConfigurationOf(provider, {
    clientSecret,
    allowHttpLoopback: deps.config.allowHttpLoopback,
    fetch: options.fetch ?? deps.fetch,
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  });
}

/** The scope parameter as this provider wants it (separator quirk). */
export function scopeValue(provider: Provider, scopes: string[]): string {
  return scopes.join(provider.quirks.authorizeScopeSeparator ?? ' ');
}
