import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { connectTokenParams } from '../../api/index.js';
import { ANONYMOUS_ACTOR } from '../../audit/index.js';
import { Forbidden, LatchkeyError } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { LinkGone, LinkRefused } from '../../oauth/index.js';
import { connectPage, linkErrorPage, linkGonePage } from '../../ui/connect-pages.js';
import { PAGE_CSS, pageHeaders } from '../../ui/page.js';
import { errorBody } from '../errors.js';
import { sameOrigin } from '../host-check.js';
import { setFlowCookie } from './callback.js';

type Params = { token: string };

/** Where the Continue form may go: back here, then (a redirect) on to the provider. */
function formAction(providerOrigin: string | null): string[] {
  const origins = ["'self'"];
  if (providerOrigin !== null && /^https?:\/\/[A-Za-z0-9.\-[\]:]+$/.test(providerOrigin)) origins.push(providerOrigin);
  return origins;
}

/**
 * An anonymous person has no session cookie that SameSite could protect, so
 * the Continue post must prove it came from this page. Browsers send
 * `Sec-Fetch-Site`, which no page can forge: it must be `same-origin`. The
 * page's `no-referrer` policy makes Chromium send `Origin: null` on it, so
 * `Origin` is only checked when it names an origin, and it is what a browser
 * without Fetch Metadata must send. Another site's form (which would bind the
 * consent to the victim's browser) passes neither.
 */
function assertSameOriginPost(core: Latchkey, request: FastifyRequest): void {
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  const refused = (): Forbidden => new Forbidden('this form can only be sent from its own page');
  if (site !== undefined) {
    if (site !== 'same-origin') throw refused();
    if (origin !== undefined && origin !== 'null' && !sameOrigin(core, origin, request.headers.host)) throw refused();
    return;
  }
  if (origin === undefined || !sameOrigin(core, origin, request.headers.host)) throw refused();
}

function gone(reply: FastifyReply, kind: 'used' | 'expired' | 'unknown'): FastifyReply {
  return reply.code(kind === 'unknown' ? 404 : 410).headers(pageHeaders()).send(linkGonePage(kind));
}

/** GET and POST /connect/{token}: the page an account owner opens, public (the link is the credential). */
export async function connectPageRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  // The Continue form posts url-encoded; it carries nothing the server reads.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_request, _body, done) => done(null, {}));

  app.get('/connect/page.css', { exposeHeadRoute: false }, async (_request, reply) =>
    reply.headers({ 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' }).send(PAGE_CSS),
  );

  // No HEAD route: a link scanner learns nothing, and GET itself never uses the link up.
  app.get<{ Params: Params }>('/connect/:token', { exposeHeadRoute: false, schema: { params: connectTokenParams } }, async (request, reply) => {
    const view = await core.oauth.connectLinks.describe(request.params.token);
    if (view === undefined) return gone(reply, 'unknown');
    if (view.status !== 'open') return gone(reply, view.status);
    if (view.refusal !== null) return reply.code(409).headers(pageHeaders()).send(linkErrorPage('conflict', view.refusal));
    return reply.code(200).headers(pageHeaders(formAction(view.providerOrigin))).send(connectPage(view));
  });

  app.post<{ Params: Params }>('/connect/:token', { schema: { params: connectTokenParams } }, async (request, reply) => {
    try {
      assertSameOriginPost(core, request);
      const started = await core.oauth.connectLinks.consume(request.params.token);
      await core.audit.record({
        actor: ANONYMOUS_ACTOR,
        action: 'connect_link.use',
        connection: started.connection.name,
        outcome: 'success',
        detail: { link: started.link.id, reconnect: started.link.connectionId !== null },
      });
      setFlowCookie(core, reply, started.cookie);
      return reply.headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).redirect(started.location, 303);
    } catch (err) {
      if (err instanceof LinkGone) return gone(reply, err.kind);
      const { status, body } = errorBody(err);
      if (!(err instanceof LatchkeyError)) request.log.error({ err: err instanceof Error ? err.message : String(err) }, 'connect link failed');
      if (err instanceof LinkRefused) {
        // The link no longer applies (an agent's reconnect link for a repaired connection): nothing started, and it is on record.
        await core.audit
          .record({
            actor: ANONYMOUS_ACTOR,
            action: 'connect_link.use',
            connection: err.link.connectionName,
            outcome: 'denied',
            detail: { link: err.link.id, reconnect: true, reason: err.message },
          })
          .catch((e: unknown) => request.log.error({ err: e instanceof Error ? e.message : String(e) }, 'refusal not audited'));
        return reply.code(409).headers(pageHeaders()).send(linkErrorPage(body.error, body.message));
      }
      return reply.code(status >= 500 ? status : status === 403 ? 403 : 400).headers(pageHeaders()).send(linkErrorPage(body.error, body.message));
    }
  });
}
