import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findUnsafeText, unsafeUrl } from '../api/index.js';
import { InvalidRequest } from '../errors.js';
import { sendError } from './errors.js';

/**
 * The edge every Fastify route shares: a request target with a NUL or an
 * escape that is not UTF-8, and a JSON body that is not UTF-8 or decodes to a
 * NUL or a lone surrogate anywhere, are refused with 400 before any route,
 * hook or store sees them. Field by field rules (names, lengths, control
 * characters) are the request schemas' (api/schemas.ts).
 */
export function guardInput(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const problem = unsafeUrl(request.raw.url ?? '');
    if (problem !== undefined) throw new InvalidRequest(problem);
  });

  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(new InvalidRequest('the request body is not valid UTF-8'), undefined);
      return;
    }
    parseJson(request, bytes.toString('utf8'), (err, value) => {
      if (err !== null) return done(err, undefined);
      const problem = findUnsafeText(value);
      if (problem !== undefined) return done(new InvalidRequest(`the request ${problem}`), undefined);
      done(null, value);
    });
  });
}

/** Fastify's own refusals before routing (`%ff` in a path parameter, an over-long parameter) in Latchkey's error shape. */
export function frameworkError(err: Error, request: FastifyRequest, reply: FastifyReply): void {
  void sendError(new InvalidRequest(`the request URL is not valid: ${err.message}`), request, reply);
}
