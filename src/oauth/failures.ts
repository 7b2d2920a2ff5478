import * as oidc from 'openid-client';
import { LatchkeyError, InvalidRequest, UpstreamError } from '../errors.js';
import { addressRefusal } from '../net/index.js';

/** Provider-chosen text is shown to people; keep it short and on one line. */
function tidy(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

/**
 * A readable reason for a failed protocol step. Built from error codes and the
 * provider's error_description only: openid-client's messages never carry the
 * code, verifier or tokens, and we do not add request bodies.
 */
export function describeFailure(err: unknown): string {
  const refused = addressRefusal(err);
  if (refused !== undefined) return refused.message;
  const own = ownError(err);
  if (own !== undefined) return own.message;
  if (err instanceof oidc.ResponseBodyError) {
    const description = err.error_description ? `: ${tidy(err.error_description)}` : '';
    return `the provider answered ${tidy(err.error)}${description}`;
  }
  if (err instanceof oidc.AuthorizationResponseError) {
    const description = err.error_description ? `: ${tidy(err.error_description)}` : '';
    return `the provider answered ${tidy(err.error)}${description}`;
  }
  if (err instanceof oidc.ClientError) return `the provider's answer was not accepted (${err.code ?? 'invalid response'})`;
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'the provider did not answer in time';
  return 'the provider could not be reached';
}

/** Our own error, possibly wrapped by openid-client (a check in the quirk fetch refused the answer). */
function ownError(err: unknown): LatchkeyError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth += 1) {
    if (e instanceof LatchkeyError) return e;
  }
  return undefined;
}

/** The typed error for a failed token endpoint call. */
export function tokenEndpointError(err: unknown, what: string): LatchkeyError {
  const refused = addressRefusal(err);
  if (refused !== undefined) return refused;
  const own = ownError(err);
  if (own !== undefined) return own;
  if (err instanceof oidc.ResponseBodyError && err.status < 500) {
    return new InvalidRequest(`${what} failed: ${describeFailure(err)}`, { cause: err });
  }
  return new UpstreamError(`${what} failed: ${describeFailure(err)}`, { cause: err });
}
