import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ANONYMOUS_ACTOR } from '../../audit/index.js';
import { isLoopbackOrigin } from '../../config/index.js';
import type { Latchkey } from '../../latchkey.js';
import { FlowFailure, type BrowserStart } from '../../oauth/index.js';
import { PAGE_HEADERS, errorPage, successPage } from '../../ui/callback-pages.js';
import { errorBody } from '../errors.js';
import { cookieOf } from '../cookies.js';

/**
 * The answer to a failed start or callback: a 400 page (api.md), with the error code in `data-error`;
 * 409 when Latchkey refused to complete a connection that another consent finished (or that was repaired).
 */
function failurePage(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { status, body } = errorBody(err);
  if (status >= 500) request.log.error({ err: err instanceof Error ? err.message : String(err) }, 'consent flow failed');
  else request.log.info({ error: body.error }, 'consent flow refused');
  const about = err instanceof FlowFailure ? { connectionName: err.connectionName, denied: err.denied } : {};
  const code = err instanceof FlowFailure && err.refused !== null ? 409 : 400;
  return reply.code(code).headers(PAGE_HEADERS).send(errorPage(body.error, body.message, about));
}

/** A refused completion is audited like the completion it would have been, with outcome `denied`. */
async function auditRefusal(core: Latchkey, err: FlowFailure): Promise<void> {
  if (err.refused === null) return;
  const { reconnect, connectLink } = err.refused;
  await core.audit.record({
    actor: ANONYMOUS_ACTOR,
    action: reconnect ? 'connection.reauthorize' : 'connection.create',
    connection: err.connectionName,
    outcome: 'denied',
    detail: {
      grantType: 'authorization_code',
      reason: err.message,
      ...(connectLink === null ? {} : { link: connectLink.id, requestedBy: connectLink.requestedBy.name ?? connectLink.requestedBy.type }),
    },
  });
}

/**
 * `__Host-` (Secure, Path=/, no Domain) wherever the browser allows it: an
 * https public URL or this machine. Only an accepted insecure public URL
 * (LATCHKEY_INSECURE_PUBLIC_URL) falls back to a plain cookie.
 */
function flowCookie(core: Latchkey, name: string): { name: string; secure: boolean } {
  const publicUrl = core.config.publicUrl;
  const secure = publicUrl.startsWith('https:') || isLoopbackOrigin(publicUrl);
  return { name: secure ? `__Host-${name}` : name, secure };
}

/** Sets the cookie that binds a consent flow to this browser (the callback requires it). */
export function setFlowCookie(core: Latchkey, reply: FastifyReply, flow: BrowserStart['cookie']): void {
  const cookie = flowCookie(core, flow.name);
  const attributes = `Path=/; Max-Age=${flow.maxAgeSeconds}; HttpOnly; SameSite=Lax${cookie.secure ? '; Secure' : ''}`;
  reply.header('set-cookie', `${cookie.name}=${flow.value}; ${attributes}`);
}

/**
 * GET /oauth/start/{token} and GET /oauth/callback: public (the browser lands
 * here), answer HTML or a redirect.
 */
export async function callbackRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  // No automatic HEAD routes: a link scanner's HEAD must not open the link or consume the state.
  app.get<{ Params: { token: string } }>(
    '/oauth/start/:token',
    { exposeHeadRoute: false, schema: { params: { type: 'object', properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]{16,128}$' } } } } },
    async (request, reply) => {
      try {
        const started = await core.oauth.openAuthorizationStart(request.params.token);
        setFlowCookie(core, reply, started.cookie);
        return reply.headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).redirect(started.location, 302);
      } catch (err) {
        return failurePage(request, reply, err);
      }
    },
  );

  // `/oauth/callback` for providers that send RFC 9207 `iss`; `/oauth/callback/{provider}` for the rest.
  const callback = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const q = request.url.indexOf('?');
    const query = new URLSearchParams(q === -1 ? '' : request.url.slice(q + 1));
    try {
      const { connection, returnTo, connectLink } = await core.oauth.handleCallback(
        query,
        (name) => cookieOf(request.headers.cookie, flowCookie(core, name).name),
        q === -1 ? request.url : request.url.slice(0, q),
      );
      // The browser is not authenticated: the actor is anonymous, the consent was the provider's.
      const reconnected = connectLink?.reconnect === true;
      await core.audit.record({
        actor: ANONYMOUS_ACTOR,
        action: reconnected ? 'connection.reauthorize' : 'connection.create',
        connection: connection.name,
        outcome: 'success',
        detail: {
          grantType: 'authorization_code',
          scopes: connection.scopes.join(' '),
          ...(connectLink === null ? {} : { link: connectLink.id, requestedBy: connectLink.requestedBy.name ?? connectLink.requestedBy.type }),
        },
      });
      if (returnTo !== null) {
        return reply.headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).redirect(returnTo, 302);
      }
      const provider = await core.providers.getById(connection.providerId);
      return reply
        .code(200)
        .headers(PAGE_HEADERS)
        .send(successPage(connection.name, provider.displayName, reconnected ? 'reconnected' : 'connected'));
    } catch (err) {
      if (err instanceof FlowFailure) {
        // Nothing was changed either way: a refusal the audit cannot take is still answered with its page.
        await auditRefusal(core, err).catch((e: unknown) => request.log.error({ err: e instanceof Error ? e.message : String(e) }, 'refusal not audited'));
      }
      return failurePage(request, reply, err);
    }
  };
  app.get('/oauth/callback', { exposeHeadRoute: false }, callback);
  app.get('/oauth/callback/:provider', { exposeHeadRoute: false }, callback);
}
