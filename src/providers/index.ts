export type { Capability, Preset, ProviderQuirks, TokenEndpointAuthMethod } from './types.js';
export { PRESETS, findPreset } from './presets.js';
export {
  providerRegistry,
  toPublicProvider,
  type Provider,
  type ProviderInput,
  type ProviderRegistry,
  type PublicProvider,
} from './registry.js';
export { discover, type DiscoveredMetadata } from './discovery.js';
export { checkAllowedHost, checkApiBaseUrl, checkEndpointUrl, checkHostAddress, instanceApiBase, isLoopbackHost, normaliseAllowedHost, hostKey } from './urls.js';
export { providerConfiguration, quirkFetch, normaliseTokenResponse, type ProviderClientOptions } from './oauth-client.js';
export { type ClientChoice, type ClientSecretInput, type PublicProviderClient } from './clients.js';
export {
  providerHealth,
  statusView,
  PROVIDER_CHECK_BACKOFF,
  type ProviderFault,
  type ProviderHealth,
  type ProviderStatusView,
} from './status.js';
export { clientConfigurationOf, TENANT_PLACEHOLDER } from './tenant-issuer.js';
