import * as oidc from 'openid-client';
import { InvalidState } from '../errors.js';
import type { OAuthDeps } from './deps.js';
import { flowCookieName, sha256Hex, stateSecretsContext, type StateSecrets } from './state.js';

export interface BrowserStart {
  /** The provider's authorization URL to send the browser on to. */
  location: string;
  /** The cookie that binds the request to this browser; the callback requires it. */
  cookie: { name: string; value: string; maxAgeSeconds: number };
}

/**
 * `GET /oauth/start/{token}`: the first browser to open the link owns the
 * request. It gets a random cookie whose hash the request keeps; a link
 * finished in any other browser then fails at the callback.
 */
export async function openAuthorizationStart(deps: OAuthDeps, startToken: string): Promise<BrowserStart> {
  const now = deps.clock.now();
  const binding = oidc.randomState();
  const row = await deps.store.oauthStates.bindBrowser(sha256Hex(startToken), sha256Hex(binding), now.toISOString());
  if (row === undefined) {
    throw new InvalidState('this link was already opened in a browser, or it expired; start the connection again');
  }
  const secrets = JSON.parse(await deps.keyring.openString(row.secrets, stateSecretsContext(row.id))) as StateSecrets;
  if (secrets.authorizationUrl === undefined) throw new InvalidState('this authorization request has no start page');
  const maxAgeSeconds = Math.max(1, Math.ceil((Date.parse(row.expiresAt) - now.getTime()) / 1000));
  return { location: secrets.authorizationUrl, cookie: { name: flowCookieName(row.id), value: binding, maxAgeSeconds } };
}
