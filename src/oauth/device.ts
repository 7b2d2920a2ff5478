import * as oidc from 'openid-client';
import { InvalidRequest } from '../errors.js';
import { newId } from '../ids.js';
import type { DeviceAuthorizationRow } from '../store/index.js';
import { clientConfiguration, scopeValue } from './client.js';
import type { ConnectInput, OAuthDeps } from './deps.js';
import { describeFailure } from './failures.js';
import { clientRejection, flowTokenEndpointError, reportClientRejected } from './misconfigured.js';
import { failPendingConnection, grantedTokens, saveGrant } from './grant.js';
import { pendingConnection } from './pending-connection.js';
import { checkVerificationUri } from './verification-uri.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §3.2: poll every 5 s unless the provider says otherwise; §3.5: slow_down adds 5 s. */
const DEFAULT_INTERVAL_SECONDS = 5;
/** RFC 8628 codes live minutes; an answer claiming more (or 1e308 s) is held to this. */
const MAX_DEVICE_CODE_LIFETIME_SECONDS = 3600;
const MAX_INTERVAL_SECONDS = 60;
const SLOW_DOWN_SECONDS = 5;

export interface DeviceStart {
  connectionId: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  expiresAt: string;
  interval: number;
}

export function deviceCodeContext(rowId: string) {
  return { table: 'device_authorizations', rowId, column: 'device_code' };
}

/**
 * RFC 8628 §3.1: asks for a device and user code, then remembers the device
 * code (sealed) in the database, where the poller finds it, even after a restart.
 */
export async function startDeviceAuthorization(
  deps: OAuthDeps,
  providerName: string,
  input: ConnectInput,
): Promise<DeviceStart> {
  const provider = await deps.providers.get(providerName);
  if (provider.deviceAuthorizationEndpoint === null) {
    throw new InvalidRequest(`provider "${provider.name}" has no deviceAuthorizationEndpoint`);
  }
  const scopes = input.scopes ?? provider.scopes;
  const config = await clientConfiguration(deps, provider);
  let response: oidc.DeviceAuthorizationResponse;
  try {
    response = await oidc.initiateDeviceAuthorization(config, scopes.length > 0 ? { scope: scopeValue(provider, scopes) } : {});
  } catch (err) {
    throw await flowTokenEndpointError(deps, provider, err, 'the device authorization request', DEVICE_CODE_GRANT);
  }
  // Checked before anything is written: a bad answer leaves no pending connection.
  const verificationUri = checkVerificationUri(response.verification_uri, provider.deviceAuthorizationEndpoint, deps.config.allowHttpLoopback);
  const verificationUriComplete =
    typeof response.verification_uri_complete === 'string'
      ? checkVerificationUri(response.verification_uri_complete, provider.deviceAuthorizationEndpoint, deps.config.allowHttpLoopback)
      : null;
  const connection = await pendingConnection(deps, provider, input, 'device_code');
  const now = deps.clock.now();
  const interval =
    typeof response.interval === 'number' && response.interval > 0 ? Math.min(response.interval, MAX_INTERVAL_SECONDS) : DEFAULT_INTERVAL_SECONDS;
  const lifetime = Math.min(Math.max(1, response.expires_in), MAX_DEVICE_CODE_LIFETIME_SECONDS);
  const expiresAt = new Date(now.getTime() + lifetime * 1000).toISOString();
  const id = newId('dev');
  await deps.store.deviceAuthorizations.insert({
    id,
    connectionId: connection.id,
    providerId: provider.id,
    deviceCode: await deps.keyring.seal(response.device_code, deviceCodeContext(id)),
    scopes,
    intervalSeconds: interval,
    nextPollAt: new Date(now.getTime() + interval * 1000).toISOString(),
    expiresAt,
    createdAt: now.toISOString(),
  });
  deps.logger.info({ connection: connection.name, provider: provider.name }, 'device authorization started');
  return {
    connectionId: connection.id,
    userCode: response.user_code,
    verificationUri,
    verificationUriComplete,
    expiresAt,
    interval,
  };
}

/** What one poll decided. */
export type PollOutcome = 'active' | 'pending' | 'slow_down' | 'failed' | 'transient';

const DENIED = 'the user denied the request at the provider (access_denied)';
const EXPIRED = 'the device code expired before the user approved it (expired_token)';

/**
 * One RFC 8628 §3.4 token request for a claimed device code, and what follows
 * from its answer. Network trouble and 5xx are transient: the next poll retries.
 */
export async function pollDeviceAuthorization(deps: OAuthDeps, row: DeviceAuthorizationRow): Promise<PollOutcome> {
  const connection = await deps.connections.find(row.connectionId);
  if (connection === undefined || connection.status === 'active') {
    // Finished elsewhere (another replica's poll) or deleted: nothing left to poll for.
    await deps.store.deviceAuthorizations.remove(row.id);
    return connection === undefined ? 'failed' : 'active';
  }
  const finish = async (reason: string): Promise<PollOutcome> => {
    await failPendingConnection(deps, connection.id, reason);
    await deps.store.deviceAuthorizations.remove(row.id);
    deps.logger.info({ connection: connection.name, reason }, 'device authorization ended');
    return 'failed';
  };
  const now = deps.clock.now();
  if (row.expiresAt <= now.toISOString()) return finish(EXPIRED);
  try {
    const provider = await deps.providers.getById(row.providerId);
    const deviceCode = await deps.keyring.openString(row.deviceCode, deviceCodeContext(row.id));
    const config = await clientConfiguration(deps, provider);
    let response: oidc.TokenEndpointResponse;
    try {
      response = await oidc.genericGrantRequest(config, DEVICE_CODE_GRANT, {
        ...provider.quirks.tokenParams,
        device_code: deviceCode,
      });
    } catch (err) {
      if (!(err instanceof oidc.ResponseBodyError) || err.status >= 500) {
        deps.logger.warn({ connection: connection.name, reason: describeFailure(err) }, 'device poll failed; will retry');
        return 'transient';
      }
      switch (err.error) {
        case 'authorization_pending':
          return 'pending';
        case 'slow_down': {
          const interval = row.intervalSeconds + SLOW_DOWN_SECONDS;
          const next = new Date(deps.clock.now().getTime() + interval * 1000).toISOString();
          await deps.store.deviceAuthorizations.slowDown(row.id, interval, next);
          return 'slow_down';
        }
        case 'access_denied':
          return finish(DENIED);
        case 'expired_token':
          return finish(EXPIRED);
        default: {
          const rejection = clientRejection(err);
          if (rejection === undefined) return finish(describeFailure(err));
          return finish((await reportClientRejected(deps, provider, rejection, 'the device code poll', DEVICE_CODE_GRANT)).message);
        }
      }
    }
    const granted = grantedTokens(response, row.scopes, provider, deps.clock.now(), deps.config.allowHttpLoopback);
    // The code is spent at the provider: forget it before the connection shows active, so no poller sends it again.
    await deps.store.deviceAuthorizations.remove(row.id);
    const saved = await saveGrant(deps, connection, granted, 'device_code');
    deps.logger.info({ connection: saved.name, scopes: saved.scopes }, 'connection authorized');
    return 'active';
  } catch (err) {
    return finish(describeFailure(err));
  }
}
