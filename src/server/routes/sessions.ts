import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ANONYMOUS_ACTOR } from '../../audit/index.js';
import { createSessionBody, sessionView, signedOutView } from '../../api/index.js';
import { InvalidRequest, Unauthorized } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import type { Operator, OperatorSession } from '../../operators/index.js';
import { sourceOf } from '../auth-limit.js';
import { actorOf, authFailureLimit, refuseIfLimited, requireCsrfToken } from '../auth.js';
import { cookieOf, sessionClearCookie, sessionCookie, sessionSetCookie } from '../cookies.js';
import { refuseCrossOrigin } from '../host-check.js';
import { noStore } from '../no-store.js';

interface SessionBody {
  name?: string;
  password?: string;
  signInToken?: string;
}

function present(session: OperatorSession) {
  const { operator } = session;
  return { operator: { id: operator.id, name: operator.name, role: operator.role }, csrfToken: session.csrfToken, expiresAt: session.expiresAt, idleExpiresAt: session.idleExpiresAt };
}

function operatorActor(operator: Operator) {
  return actorOf({ kind: 'operator', id: operator.id, name: operator.name, role: operator.role, via: 'session' });
}

async function currentSession(core: Latchkey, request: FastifyRequest): Promise<{ id: string; session: OperatorSession }> {
  const id = cookieOf(request.headers.cookie, sessionCookie(core).name);
  const session = id === undefined ? undefined : await core.operators.resumeSession(id);
  if (id === undefined || session === undefined) throw new Unauthorized('no console session: sign in with POST /v1/sessions');
  return { id, session };
}

/**
 * Console sign-in and sign-out (CONTRACTS.md): public routes, each refusing
 * what another site's page sends; a failed sign-in counts against the same
 * per-source limit as a wrong admin token.
 */
export async function sessionRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.addHook('onRequest', async (request) => refuseCrossOrigin(core, request));

  app.post<{ Body: SessionBody }>(
    '/v1/sessions',
    { schema: { body: createSessionBody, response: { 201: sessionView } } },
    async (request, reply): Promise<FastifyReply> => {
      const source = await refuseIfLimited(core, request.raw);
      const { name, password, signInToken } = request.body;
      const byLink = signInToken !== undefined && name === undefined && password === undefined;
      if (!byLink && (name === undefined || password === undefined || signInToken !== undefined)) {
        throw new InvalidRequest('sign in with {"name", "password"} or with {"signInToken"} from a sign-in link');
      }
      const method = byLink ? 'link' : 'password';
      const operator = byLink ? await core.operators.consumeSignInLink(signInToken) : await core.operators.checkPassword(name as string, password as string);
      if (operator === undefined) {
        authFailureLimit(core).fail(source);
        // The typed name is recorded only when it names an operator: a password typed into the name field stays out of the log.
        const known = name !== undefined && (await core.operators.get(name).then(() => true, () => false));
        await core.audit.record({
          actor: ANONYMOUS_ACTOR,
          action: 'operator.sign_in',
          outcome: 'denied',
          detail: { method, source, ...(known ? { operator: name } : {}) },
        });
        throw new Unauthorized(byLink ? 'the sign-in link is unknown, used or expired: ask an admin for a new one' : 'wrong operator name or password');
      }
      const { sessionId, ...session } = await core.operators.startSession(operator);
      try {
        await core.audit.record({ actor: operatorActor(operator), action: 'operator.sign_in', outcome: 'success', detail: { method, source } });
      } catch (err) {
        await core.operators.endSession(sessionId);
        throw err;
      }
      const maxAge = Math.max(0, Math.floor((Date.parse(session.expiresAt) - core.clock.now().getTime()) / 1000));
      return noStore(reply).header('set-cookie', sessionSetCookie(core, sessionId, maxAge)).code(201).send(present(session));
    },
  );

  app.get('/v1/session', { schema: { response: { 200: sessionView } } }, async (request, reply) => {
    const { session } = await currentSession(core, request);
    return noStore(reply).send(present(session));
  });

  app.delete('/v1/session', { schema: { response: { 200: signedOutView } } }, async (request, reply) => {
    const { id, session } = await currentSession(core, request);
    requireCsrfToken(request, session.csrfToken);
    await core.audit.record({
      actor: operatorActor(session.operator),
      action: 'operator.sign_out',
      outcome: 'success',
      detail: { source: sourceOf(request.raw, core.config.trustProxy) },
    });
    await core.operators.endSession(id);
    return noStore(reply).header('set-cookie', sessionClearCookie(core)).send({ signedOut: true });
  });
}
