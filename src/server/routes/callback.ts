import type { FastifyInstance } from 'fastify';
import { ANONYMOUS_ACTOR } from '../../audit/index.js';
import type { Latchkey } from '../../latchkey.js';
import { PAGE_HEADERS, errorPage, successPage } from '../../ui/callback-pages.js';
import { errorBody } from '../errors.js';

/**
 * GET /oauth/callback: public (the browser lands here), answers HTML. Every
 * failure is a 400 page (api.md), with the error code in `data-error`.
 */
export async function callbackRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  // No automatic HEAD route: a link scanner's HEAD must not consume the state or the code.
  app.get('/oauth/callback', { exposeHeadRoute: false }, async (request, reply) => {
    const query = new URLSearchParams(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '');
    try {
      const { connection, returnTo } = await core.oauth.handleCallback(query);
      // The browser is not authenticated: the actor is anonymous, the consent was the provider's.
      await core.audit.record({
        actor: ANONYMOUS_ACTOR,
        action: 'connection.create',
        connection: connection.name,
        outcome: 'success',
        detail: { grantType: 'authorization_code', scopes: connection.scopes.join(' ') },
      });
      if (returnTo !== null) {
        return reply.headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).redirect(returnTo, 302);
      }
      const provider = await core.providers.getById(connection.providerId);
      return reply.code(200).headers(PAGE_HEADERS).send(successPage(connection.name, provider.displayName));
    } catch (err) {
      const { status, body } = errorBody(err);
      if (status >= 500) request.log.error({ err: err instanceof Error ? err.message : String(err) }, 'callback failed');
      else request.log.info({ error: body.error }, 'callback refused');
      return reply.code(400).headers(PAGE_HEADERS).send(errorPage(body.error, body.message));
    }
  });
}
