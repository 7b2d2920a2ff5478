export { sealTokens, openTokens, tokensContext, type TokenSet } from './vault.js';
export { importConnection, type ImportInput } from './import.js';
export type { AccessGrant, TokenService } from './types.js';
