import * as oidc from 'openid-client';
import type { Connection } from '../connections/index.js';
import { Conflict, InvalidIssuer, InvalidRequest, InvalidState, LatchkeyError } from '../errors.js';
import type { ConnectLinkRow } from '../store/index.js';
import type { Provider } from '../providers/index.js';
import { clientConfiguration } from './client.js';
import type { OAuthDeps } from './deps.js';
import { describeFailure } from './failures.js';
import { flowTokenEndpointError } from './misconfigured.js';
import { completable, FlowRefused } from './completable.js';
import { failPendingConnection, grantedTokens, saveGrant } from './grant.js';
import { timingSafeEqual } from 'node:crypto';
import { flowCookieName, sha256Hex, stateId, stateSecretsContext, type StateSecrets } from './state.js';

/** The browser's cookie of a given name, as the callback request carried it. */
export type BrowserCookies = (name: string) => string | undefined;

export interface CallbackResult {
  connection: Connection;
  /** Where to send the browser, or null for the plain success page. */
  returnTo: string | null;
  /** The connect link the flow was started from, if any, and whether it repaired an existing connection in place. */
  connectLink: { id: string; reconnect: boolean; requestedBy: ConnectLinkRow['requestedBy'] } | null;
}

/**
 * A flow that failed after its request was found: the original error (same
 * code and message), plus the connection it was for and whether the person
 * declined at the provider, so the result page can say so.
 */
export class FlowFailure extends LatchkeyError {
  constructor(
    inner: LatchkeyError,
    readonly connectionName: string,
    readonly denied: boolean,
    /** Set when Latchkey refused to complete the connection (FlowRefused): what the audit records. */
    readonly refused: { reconnect: boolean; connectLink: CallbackResult['connectLink'] } | null = null,
  ) {
    super(inner.code, inner.message, { cause: inner, details: inner.details });
  }
}

/**
 * RFC 6749 §4.1.2: the browser is back. The state is consumed first (single
 * use whatever happens next); a failure after that marks the connection
 * `error` with the reason and stores no token.
 */
export async function handleCallback(
  deps: OAuthDeps,
  query: URLSearchParams,
  cookies: BrowserCookies,
  callbackPath: string,
): Promise<CallbackResult> {
  const state = query.get('state');
  if (state === null || state === '') throw new InvalidState('the callback carries no state');
  const row = await deps.store.oauthStates.consume(stateId(state));
  if (row === undefined) throw new InvalidState('unknown or already used state; start the connection again');
  if (row.expiresAt <= deps.clock.now().toISOString()) {
    await failPendingConnection(deps, row.connectionId, 'the authorization request expired before the callback');
    throw new InvalidState('the authorization request expired (10 minutes); start the connection again');
  }
  if (new URL(row.redirectUri).pathname !== callbackPath) {
    await failPendingConnection(deps, row.connectionId, 'the answer came back to another provider’s callback (a possible mix-up)');
    throw new InvalidState('this answer arrived at another provider’s callback than its request was sent with; start the connection again');
  }
  if (row.startId !== null && !sameBrowser(row.browserBinding, cookies(flowCookieName(row.id)))) {
    await failPendingConnection(deps, row.connectionId, 'the authorization was finished in another browser than the one that opened the link');
    throw new InvalidState('this authorization was started in another browser (or its link was never opened through Latchkey); start the connection again');
  }
  const connection = await deps.connections.find(row.connectionId);
  if (connection === undefined) throw new InvalidState('the connection for this authorization request no longer exists');
  let link: ConnectLinkRow | undefined;
  let reconnect = false;
  try {
    const provider = await deps.providers.getById(row.providerId);
    const error = query.get('error');
    if (error !== null) {
      const description = query.get('error_description');
      throw new InvalidRequest(
        `the provider answered ${error.slice(0, 100)}${description ? `: ${description.slice(0, 200)}` : ''}`,
      );
    }
    checkIssuer(provider, query.get('iss'));
    if (provider.issuer === null) query.delete('iss');
    if (!query.get('code')) throw new InvalidRequest('the callback carries no code');
    link = row.connectLinkId === null ? undefined : await deps.store.connectLinks.findById(row.connectLinkId);
    // A flow started from a link that was withdrawn meanwhile stops here, before it could skip the link's checks.
    if (row.connectLinkId !== null && link === undefined) throw new InvalidState('the connect link this consent started from was withdrawn');
    reconnect = link?.connectionId === connection.id;
    // Refused before the code is redeemed: this flow may no longer complete this connection.
    const guard = completable(link, connection);
    const secrets = JSON.parse(
      await deps.keyring.openString(row.secrets, stateSecretsContext(row.id)),
    ) as StateSecrets;
    const config = await clientConfiguration(deps, provider);
    // openid-client derives redirect_uri from this URL: it must be the one sent, not what a proxy forwarded.
    const currentUrl = new URL(row.redirectUri);
    for (const [key, value] of query) {
      currentUrl.searchParams.append(key, value);
    }
    let response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    try {
      response = await oidc.authorizationCodeGrant(
        config,
        currentUrl,
        {
          expectedState: state,
          ...(secrets.codeVerifier === undefined ? {} : { pkceCodeVerifier: secrets.codeVerifier }),
          ...(secrets.nonce === undefined ? {} : { expectedNonce: secrets.nonce, idTokenExpected: true }),
        },
        provider.quirks.tokenParams,
      );
    } catch (err) {
      throw await flowTokenEndpointError(deps, provider, err, 'exchanging the authorization code', 'authorization_code');
    }
    if (reconnect) await assertSameAccount(deps, connection, response);
    const granted = grantedTokens(response, row.scopes, provider, deps.clock.now(), deps.config.allowHttpLoopback);
    const saved = await saveGrant(deps, connection, granted, 'authorization_code', guard).catch(async (err: unknown) => {
      // Another flow (or an operator) changed the row while the code was redeemed: say why, if that is why.
      const current = await deps.connections.find(connection.id);
      if (err instanceof Conflict && current !== undefined) completable(link, current);
      throw err;
    });
    deps.logger.info({ connection: saved.name, scopes: saved.scopes, reconnect }, 'connection authorized');
    if (reconnect) {
      await deps.emit('connection.reauthorized', { id: saved.id, name: saved.name, provider: provider.name, status: saved.status });
    }
    return {
      connection: saved,
      returnTo: row.returnTo,
      connectLink: link === undefined ? null : { id: link.id, reconnect, requestedBy: link.requestedBy },
    };
  } catch (err) {
    const reason = describeFailure(err);
    if (err instanceof FlowRefused) {
      // The connection belongs to whichever flow completed it (or was repaired): this one leaves no trace on it.
      deps.logger.info({ connection: connection.name, reason }, 'authorization refused');
      const connectLink = link === undefined ? null : { id: link.id, reconnect, requestedBy: link.requestedBy };
      throw new FlowFailure(err, connection.name, false, { reconnect, connectLink });
    }
    await failPendingConnection(deps, connection.id, reason);
    deps.logger.info({ connection: connection.name, reason }, 'authorization failed');
    if (err instanceof LatchkeyError) throw new FlowFailure(err, connection.name, query.get('error') === 'access_denied');
    throw err;
  }
}

function originOf(url: string | null): string | null {
  return url === null ? null : new URL(url).origin;
}

function sameBrowser(binding: string | null, cookie: string | undefined): boolean {
  if (binding === null || cookie === undefined) return false;
  return timingSafeEqual(Buffer.from(sha256Hex(cookie), 'hex'), Buffer.from(binding, 'hex'));
}

/**
 * RFC 9207: when the provider sends `iss` (or promises to), it must be the
 * issuer the request went to; this is what stops a mix-up attack.
 */
function checkIssuer(provider: Provider, iss: string | null): void {
  if (iss === null) {
    if (provider.issParameterSupported) throw new InvalidIssuer('the callback has no iss although the provider promises one (RFC 9207)');
    return;
  }
  // Without a registered issuer, an `iss` is still checked against where the user was sent.
  const expected = provider.issuer ?? originOf(provider.authorizationEndpoint);
  if (iss !== expected) throw new InvalidIssuer('the callback iss does not match the provider issuer (RFC 9207)');
}

/** The `sub` of a JWT's payload, read without verifying (it was verified when it was stored). */
function subjectOf(idToken: string | undefined): string | undefined {
  const payload = idToken?.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A reconnect must bring back the same account: agents and policies were
 * granted for it. When both the stored grant and the new one name their
 * account (OpenID Connect `sub`), a different one is refused and nothing
 * is stored; without an ID token on either side there is nothing to compare.
 */
async function assertSameAccount(
  deps: OAuthDeps,
  connection: Connection,
  response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
): Promise<void> {
  const before = subjectOf((await deps.openTokens(connection.id, connection.sealedTokens)).idToken);
  const after = response.claims()?.sub;
  // A grant that named its account must be replaced by one naming the same account: a missing `sub` is not a match.
  if (before !== undefined && before !== after) {
    throw new Conflict(
      `a different account consented than the one connection "${connection.name}" belongs to; nothing was changed (sign in at the provider as the original account)`,
    );
  }
}
