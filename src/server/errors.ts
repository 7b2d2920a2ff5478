import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FORWARDED_METHODS } from '../api/index.js';
import { BodyTooLarge, LatchkeyError, MethodNotAllowed, ProviderMisconfigured, ProviderUnavailable, RateLimited, type ErrorCode } from '../errors.js';

/** The one place an error code becomes an HTTP status. */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  needs_reauth: 409,
  invalid_state: 400,
  target_not_allowed: 400,
  upstream_error: 502,
  provider_unavailable: 503,
  audit_unavailable: 503,
  invalid_issuer: 400,
  method_not_allowed: 405,
  lease_unbounded: 409,
  rate_limited: 429,
  provider_misconfigured: 503,
  internal_error: 500,
};

export interface ErrorBody {
  error: ErrorCode;
  message: string;
  [extra: string]: unknown;
}

export function errorBody(err: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (err instanceof LatchkeyError) {
    const headers: Record<string, string> = {};
    if (err instanceof ProviderUnavailable || err instanceof RateLimited || err instanceof ProviderMisconfigured) {
      headers['retry-after'] = String(err.retryAfterSeconds);
    }
    if (err instanceof MethodNotAllowed) headers.allow = FORWARDED_METHODS.join(', ');
    return { status: err instanceof BodyTooLarge ? 413 : STATUS_BY_CODE[err.code], body: { ...err.details, error: err.code, message: err.message }, headers };
  }
  const fe = err as Partial<FastifyError> & { validation?: unknown };
  if (fe.validation !== undefined) {
    return { status: 400, body: { error: 'invalid_request', message: fe.message ?? 'invalid request' }, headers: {} };
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { error: 'invalid_request', message: 'request body is too large' }, headers: {} };
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors: bad JSON, wrong content type, empty body...
    return { status, body: { error: 'invalid_request', message: fe.message ?? 'invalid request' }, headers: {} };
  }
  return { status: 500, body: { error: 'internal_error', message: 'internal error' }, headers: {} };
}

export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, headers } = errorBody(err);
  if (status >= 500 && !(err instanceof LatchkeyError)) request.log.error({ err }, 'request failed');
  else request.log.info({ error: body.error, status }, 'request refused');
  return reply.code(status).headers(headers).send(body);
}
