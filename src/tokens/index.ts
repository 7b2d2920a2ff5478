export { sealTokens, openTokens, tokensContext, type TokenSet } from './vault.js';
export { importConnection, type ImportInput } from './import.js';
export { authorizationOf, type AccessGrant, type TokenService } from './types.js';
export { tokenService, type LatchkeyTokens } from './service.js';
export { BackgroundRefresher, type RefresherOptions } from './refresher.js';
export type { RefreshContext, RefreshSettings } from './refresh.js';
export { RevocationWorker, type ConnectionDeletion, type RevocationSettings, type RevocationView } from './revocations.js';
