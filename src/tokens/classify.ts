import * as oidc from 'openid-client';
import { LatchkeyError, ProviderMisconfigured } from '../errors.js';
import { addressRefusal } from '../net/index.js';
import { clientRejection, type ClientRejection } from '../oauth/index.js';

/**
 * What a failed token endpoint call means for the connection:
 * - `rejected_grant`: the provider refused the grant for good (invalid_grant):
 *   a person must reconnect.
 * - `client_rejected`: the provider refused Latchkey's own client
 *   (invalid_client, unauthorized_client): the provider is misconfigured, the
 *   grant is untouched (`reported` when a flow already marked the provider).
 * - `refused`: some other 4xx error; retried later, never needs_reauth.
 * - `outage`: 5xx, garbage, timeout or no connection. The request may or may
 *   not have reached the provider (`answerLost`), which matters when the
 *   provider rotates refresh tokens.
 */
export type TokenEndpointFailure =
  | { kind: 'rejected_grant'; description: string }
  | { kind: 'client_rejected'; description: string; rejection?: ClientRejection; reported?: ProviderMisconfigured }
  | { kind: 'refused'; description: string }
  | { kind: 'outage'; description: string; answerLost: boolean };

export function classifyTokenEndpointError(err: unknown): TokenEndpointFailure {
  // The address guard stopped the call before anything was sent (openid-client wraps it in a ClientError).
  const unreachable = addressRefusal(err);
  if (unreachable !== undefined) return { kind: 'refused', description: `token endpoint not contacted: ${unreachable.message}` };
  if (err instanceof ProviderMisconfigured) return { kind: 'client_rejected', description: err.message, reported: err };
  const rejection = clientRejection(err);
  if (rejection !== undefined) return { kind: 'client_rejected', description: rejection.description, rejection };
  // oauth/ wraps protocol errors in our own; what happened is in the cause.
  if (err instanceof LatchkeyError) {
    if (err.cause !== undefined) return classifyTokenEndpointError(err.cause);
    return { kind: 'refused', description: err.message };
  }
  if (err instanceof oidc.ResponseBodyError) {
    const description = `${err.error} (HTTP ${err.status})${err.error_description ? `: ${clip(err.error_description)}` : ''}`;
    if (err.status >= 500 || err.error === 'temporarily_unavailable' || err.error === 'server_error') {
      return { kind: 'outage', description: `token endpoint unavailable: ${description}`, answerLost: false };
    }
    if (err.error === 'invalid_grant') return { kind: 'rejected_grant', description: `provider rejected the grant: ${description}` };
    return { kind: 'refused', description: `token endpoint refused the request: ${description}` };
  }
  const status = responseStatus(err);
  if (status !== undefined) {
    return { kind: 'outage', description: `token endpoint unavailable (HTTP ${status})`, answerLost: false };
  }
  if (isTimeout(err)) return { kind: 'outage', description: 'token endpoint did not answer in time', answerLost: true };
  if (err instanceof oidc.ClientError) {
    return { kind: 'outage', description: `token endpoint answered garbage (${err.code ?? err.name})`, answerLost: true };
  }
  return { kind: 'outage', description: `token endpoint unreachable (${networkCode(err)})`, answerLost: true };
}

function responseStatus(err: unknown): number | undefined {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Response ? cause.status : undefined;
}

function isTimeout(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth += 1) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    if ((e as { code?: unknown }).code === 'OAUTH_TIMEOUT') return true;
  }
  return false;
}

function networkCode(err: unknown): string {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return err instanceof Error ? err.name : 'unknown error';
}

/** Providers' descriptions are public text, but keep them short in lastError. */
function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
