import * as oidc from 'openid-client';
import type { Clock } from '../clock.js';
import { ProviderMisconfigured, type LatchkeyError } from '../errors.js';
import type { EmitEvent } from '../events/index.js';
import type { Logger } from '../log.js';
import { providerHealth, type Provider, type ProviderFault } from '../providers/index.js';
import type { Store } from '../store/index.js';
import { tokenEndpointError } from './failures.js';

/** RFC 6749 §5.2 errors about the client itself, not the grant: a configuration fault. */
const CLIENT_ERRORS = new Set(['invalid_client', 'unauthorized_client']);

export interface ClientRejection {
  error: string;
  /** Public text: the error code, the status and the provider's own description. */
  description: string;
}

/** invalid_client / unauthorized_client in a token endpoint answer (its body, or a 401 challenge), looked for through causes. */
export function clientRejection(err: unknown): ClientRejection | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth += 1) {
    if (e instanceof oidc.ResponseBodyError && CLIENT_ERRORS.has(e.error)) {
      return { error: e.error, description: `${e.error} (HTTP ${e.status})${e.error_description ? `: ${clip(e.error_description)}` : ''}` };
    }
    if (e instanceof oidc.WWWAuthenticateChallengeError) {
      for (const challenge of e.cause) {
        const error = challenge.parameters.error;
        if (error !== undefined && CLIENT_ERRORS.has(error)) {
          const text = challenge.parameters.error_description;
          return { error, description: `${error} (HTTP ${e.status})${text ? `: ${clip(text)}` : ''}` };
        }
      }
    }
  }
  return undefined;
}

export interface MisconfiguredDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  emit: EmitEvent;
}

/** What callers get while the provider is marked: names the cause, with Retry-After until the next check. */
export function misconfiguredError(provider: Provider, fault: ProviderFault, now: Date): ProviderMisconfigured {
  const retryAfter = Math.max(1, Math.ceil((Date.parse(fault.nextCheckAt) - now.getTime()) / 1000));
  return new ProviderMisconfigured(
    `provider "${provider.name}" refuses Latchkey's OAuth client (since ${fault.since}): ${fault.reason}. ` +
      `Fix its client id or secret (PATCH /v1/providers/${provider.name}); connections keep their grants`,
    retryAfter,
    { details: { provider: provider.name } },
  );
}

/**
 * The token endpoint refused the client: mark the provider misconfigured (not
 * its connections), tell someone once across replicas, and return the error
 * for the caller.
 */
export async function reportClientRejected(
  deps: MisconfiguredDeps,
  provider: Provider,
  rejection: ClientRejection,
  what: string,
  grantType: string,
): Promise<ProviderMisconfigured> {
  const reason = `the token endpoint refused the client (${what}): ${rejection.description}`;
  const { fault, newly } = await providerHealth(deps).markMisconfigured(provider, { reason, grantType });
  if (newly) {
    deps.logger.error({ provider: provider.name, reason }, "the provider refuses Latchkey's OAuth client; its connections keep their grants");
    await deps.emit('provider.misconfigured', {
      id: provider.id,
      name: provider.name,
      status: 'misconfigured',
      reason,
      clientId: provider.clientId,
      since: fault.since,
      nextCheckAt: fault.nextCheckAt,
    });
  }
  return misconfiguredError(provider, fault, deps.clock.now());
}

/** The typed error for a failed token endpoint call in a flow, marking the provider when the client was refused. */
export async function flowTokenEndpointError(
  deps: MisconfiguredDeps,
  provider: Provider,
  err: unknown,
  what: string,
  grantType: string,
): Promise<LatchkeyError> {
  const rejection = clientRejection(err);
  if (rejection === undefined) return tokenEndpointError(err, what);
  return reportClientRejected(deps, provider, rejection, what, grantType);
}

function clip(text: string): string {
  const tidy = text.replace(/\s+/g, ' ');
  return tidy.length > 200 ? `${tidy.slice(0, 200)}…` : tidy;
}
