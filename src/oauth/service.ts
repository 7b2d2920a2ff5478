import type { Connection } from '../connections/index.js';
import { startAuthorization, type AuthorizationInput, type AuthorizationStart } from './authorization.js';
import { handleCallback, type BrowserCookies, type CallbackResult } from './callback.js';
import { openAuthorizationStart, type BrowserStart } from './start.js';
import { connectClientCredentials, type ClientCredentialsInput } from './client-credentials.js';
import type { ConnectInput, OAuthDeps } from './deps.js';
import { startDeviceAuthorization, type DeviceStart } from './device.js';
import { DevicePoller, type DevicePollerOptions } from './device-poller.js';
import { connectLinkService, type ConnectLinkService } from './connect-links.js';

/** The flows as the shells use them, with the device poller they share. */
export interface OAuthService {
  startAuthorization(provider: string, input: AuthorizationInput): Promise<AuthorizationStart>;
  openAuthorizationStart(startToken: string): Promise<BrowserStart>;
  handleCallback(query: URLSearchParams, cookies: BrowserCookies, callbackPath: string): Promise<CallbackResult>;
  startDeviceAuthorization(provider: string, input: ConnectInput): Promise<DeviceStart>;
  connectClientCredentials(provider: string, input: ClientCredentialsInput): Promise<Connection>;
  devicePoller: DevicePoller;
  /** Single-use pages an account owner opens to connect or reconnect their own account. */
  connectLinks: ConnectLinkService;
}

export function oauthService(deps: OAuthDeps, options: { devicePoller?: DevicePollerOptions } = {}): OAuthService {
  const devicePoller = new DevicePoller(deps, options.devicePoller);
  return {
    startAuthorization: (provider, input) => startAuthorization(deps, provider, input),
    openAuthorizationStart: (startToken) => openAuthorizationStart(deps, startToken),
    handleCallback: (query, cookies, callbackPath) => handleCallback(deps, query, cookies, callbackPath),
    startDeviceAuthorization: async (provider, input) => {
      const started = await startDeviceAuthorization(deps, provider, input);
      devicePoller.wake();
      return started;
    },
    connectClientCredentials: (provider, input) => connectClientCredentials(deps, provider, input),
    devicePoller,
    connectLinks: connectLinkService(deps),
  };
}
