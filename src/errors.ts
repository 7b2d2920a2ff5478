/**
 * The closed list of Latchkey error codes. Domain modules throw these; only
 * server/ maps a code to an HTTP status (see server/errors.ts).
 */
export const ERROR_CODES = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'needs_reauth',
  'invalid_state',
  'target_not_allowed',
  'upstream_error',
  'provider_unavailable',
  'audit_unavailable',
  'invalid_issuer',
  'method_not_allowed',
  'lease_unbounded',
  'rate_limited',
  'provider_misconfigured',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class LatchkeyError extends Error {
  readonly code: ErrorCode;
  /** Extra public fields merged into the API error body (never secrets). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LatchkeyError';
    this.code = code;
    this.details = options?.details ?? {};
  }
}

export class InvalidRequest extends LatchkeyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_request', message, options);
  }
}

/** A request body over the limit: `invalid_request`, answered with 413 like Fastify's own body limit. */
export class BodyTooLarge extends InvalidRequest {
  constructor(message = 'request body is too large') {
    super(message);
  }
}

export class NotFound extends LatchkeyError {
  constructor(message: string) {
    super('not_found', message);
  }
}

export class Conflict extends LatchkeyError {
  constructor(message: string) {
    super('conflict', message);
  }
}

export class Unauthorized extends LatchkeyError {
  constructor(message = 'missing or invalid credentials') {
    super('unauthorized', message);
  }
}

export class Forbidden extends LatchkeyError {
  constructor(message: string, options?: { details?: Record<string, unknown> }) {
    super('forbidden', message, options);
  }
}

/**
 * A refusal by the agent's policy, which the agent may ask an operator to
 * lift: the body carries `proposalsUrl` and the message says how to ask
 * (docs/agents.md, "Asking for access").
 */
export class PolicyDenied extends Forbidden {
  constructor(message: string, proposalsUrl: string) {
    super(
      `${message}; to ask for access, POST ${proposalsUrl} with {"connection", "methods"?, "paths"? or "capabilities"?, "reason"} and an operator will approve or deny it`,
      { details: { proposalsUrl } },
    );
  }
}

export class InvalidState extends LatchkeyError {
  constructor(message: string) {
    super('invalid_state', message);
  }
}

export class InvalidIssuer extends LatchkeyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_issuer', message, options);
  }
}

export class NeedsReauth extends LatchkeyError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('needs_reauth', message, details === undefined ? undefined : { details });
  }
}

export class TargetNotAllowed extends LatchkeyError {
  constructor(message: string) {
    super('target_not_allowed', message);
  }
}

export class UpstreamError extends LatchkeyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('upstream_error', message, options);
  }
}

export class ProviderUnavailable extends LatchkeyError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super('provider_unavailable', message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class MethodNotAllowed extends LatchkeyError {
  constructor(message: string) {
    super('method_not_allowed', message);
  }
}

export class LeaseUnbounded extends LatchkeyError {
  constructor(message: string) {
    super('lease_unbounded', message);
  }
}

/** Too many failed authentications from one source; the caller should wait `retryAfterSeconds`. */
export class RateLimited extends LatchkeyError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super('rate_limited', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The provider refused Latchkey's own client (`invalid_client`, `unauthorized_client`): a configuration fault, not a dead grant. */
export class ProviderMisconfigured extends LatchkeyError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super('provider_misconfigured', message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class AuditUnavailable extends LatchkeyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('audit_unavailable', message, options);
  }
}

export function isLatchkeyError(err: unknown): err is LatchkeyError {
  return err instanceof LatchkeyError;
}
