import type { Keyring } from '../crypto/index.js';

/** The secrets of one grant, sealed together as one blob on the connection row. */
export interface TokenSet {
  accessToken?: string;
  refreshToken?: string;
  idToken?: string;
}

export function tokensContext(connectionId: string) {
  return { table: 'connections', rowId: connectionId, column: 'tokens' };
}

export async function sealTokens(keyring: Keyring, connectionId: string, tokens: TokenSet): Promise<string> {
  return keyring.seal(JSON.stringify(tokens), tokensContext(connectionId));
}

export async function openTokens(keyring: Keyring, connectionId: string, sealed: string | null): Promise<TokenSet> {
  if (sealed === null) return {};
  return JSON.parse(await keyring.openString(sealed, tokensContext(connectionId))) as TokenSet;
}

/** The secrets of a grant besides its access token (for response redaction). */
export function otherTokensOf(tokens: TokenSet): string[] {
  return [tokens.refreshToken, tokens.idToken].filter((t): t is string => t !== undefined && t !== '');
}
