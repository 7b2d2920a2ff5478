import type { CustomFetch } from 'openid-client';
import type { Connection } from '../connections/index.js';
import type { Logger } from '../log.js';
import type { ProviderRegistry } from '../providers/index.js';
import { classifyTokenEndpointError } from './classify.js';
import { tokenRevocation } from './token-endpoint.js';
import { openTokens } from './vault.js';
import type { Keyring } from '../crypto/index.js';

export interface RevokeDeps {
  keyring: Keyring;
  providers: ProviderRegistry;
  logger: Logger;
  allowHttpLoopback: boolean;
  timeoutSeconds: number;
  fetch: CustomFetch;
}

/**
 * RFC 7009 revocation of one of the connection's tokens (or `token`, e.g. a
 * leased access token). True only when the provider has a revocation endpoint
 * and answered 200; any failure is logged and reported as false, never thrown,
 * so a local delete is never blocked by the provider.
 */
export async function revokeAtProvider(
  deps: RevokeDeps,
  connection: Connection,
  which: 'refresh_token' | 'access_token',
  token?: string,
): Promise<boolean> {
  try {
    // Only the client a token was issued to may revoke it (RFC 7009 section 2.1).
    const provider = await deps.providers.forConnection(connection);
    if (provider.revocationEndpoint === null) return false;
    const value =
      token ?? (await openTokens(deps.keyring, connection.id, connection.sealedTokens))[which === 'refresh_token' ? 'refreshToken' : 'accessToken'];
    if (value === undefined) return false;
    await tokenRevocation(provider, value, which, {
      clientSecret: await deps.providers.clientSecretOf(provider),
      allowHttpLoopback: deps.allowHttpLoopback,
      timeoutSeconds: deps.timeoutSeconds,
      fetch: deps.fetch,
    });
    deps.logger.info({ connection: connection.name, tokenType: which }, 'token revoked at the provider');
    return true;
  } catch (err) {
    deps.logger.warn(
      { connection: connection.name, tokenType: which, reason: classifyTokenEndpointError(err).description },
      'revocation at the provider failed',
    );
    return false;
  }
}
