export type { OAuthDeps, ConnectInput, GrantSecrets } from './deps.js';
export { startAuthorization, redirectUriOf, type AuthorizationInput, type AuthorizationStart } from './authorization.js';
export { FlowFailure, handleCallback, type BrowserCookies, type CallbackResult } from './callback.js';
export { agentMayRepair, FlowRefused } from './completable.js';
export {
  LINK_DEFAULT_TTL_SECONDS,
  LINK_MAX_TTL_SECONDS,
  connectLinkService,
  LinkGone,
  LinkRefused,
  type ConnectLinkInput,
  type ConnectLinkPage,
  type ConnectLinkService,
  type ConnectLinkStatus,
  type ConnectLinkView,
  type CreatedConnectLink,
  type LinkTarget,
} from './connect-links.js';
export { openAuthorizationStart, type BrowserStart } from './start.js';
export { flowCookieName } from './state.js';
export {
  startDeviceAuthorization,
  pollDeviceAuthorization,
  DEVICE_CODE_GRANT,
  type DeviceStart,
  type PollOutcome,
} from './device.js';
export { DevicePoller, type DevicePollerOptions } from './device-poller.js';
export {
  clientCredentialsGrant,
  connectClientCredentials,
  type ClientCredentialsInput,
} from './client-credentials.js';
export { grantedTokens, saveGrant, failPendingConnection, type GrantedTokens } from './grant.js';
export { checkReturnTo } from './return-to.js';
export { clientConfiguration } from './client.js';
export { oauthService, type OAuthService } from './service.js';
export {
  clientRejection,
  flowTokenEndpointError,
  misconfiguredError,
  reportClientRejected,
  type ClientRejection,
  type MisconfiguredDeps,
} from './misconfigured.js';
