import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { agentActorOf, mayUseConnection, type AuthenticatedAgent } from '../../agents/index.js';
import { connectLinkList, connectLinkListQuery, connectLinkParams, connectLinkSchema, createConnectLinkBody, createdConnectLink } from '../../api/index.js';
import { actingAs, type Actor } from '../../audit/index.js';
import { Forbidden } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { agentMayRepair, type ConnectLinkInput, type CreatedConnectLink, type LinkTarget } from '../../oauth/index.js';
import { actorOf, authenticateAdminOrAgent, principalOf } from '../auth.js';
import { listPage, type PageQuery } from '../paging.js';
import { refuseCrossOrigin } from '../host-check.js';
import { noStore } from '../no-store.js';

/** An agent may ask for a link only for a connection name its policy names, in its own environment, and reconnect only a broken one. */
function agentMay(agent: AuthenticatedAgent): (target: LinkTarget) => void {
  return (target) => {
    if (target.name === null) throw new Forbidden('an agent must name the connection its link is for (name, or connection to reconnect)');
    if (target.environment !== agent.environment || !mayUseConnection(agent.policy, target.name)) {
      throw new Forbidden(`this agent's policy does not name connection "${target.name}"; an operator can make this link`);
    }
    // An agent may ask a person to repair a broken connection, never to swap the account behind a working (or revoked) one.
    if (target.status !== undefined && !agentMayRepair(target.status)) {
      throw new Forbidden(`connection "${target.name}" is ${target.status}: only an operator can make a reconnect link for it`);
    }
  };
}

function auditDetail(created: CreatedConnectLink): Record<string, string | boolean | null> {
  const v = created.view;
  return { link: v.id, provider: v.provider, reconnect: v.connection !== null, subject: v.subject, expiresAt: v.expiresAt };
}

/**
 * Creates a link and audits it under whoever asked; a link whose audit event
 * cannot be written is taken back, so no unaudited link is ever handed out.
 */
async function createAudited(core: Latchkey, input: ConnectLinkInput, actor: Actor, allow?: (t: LinkTarget) => void): Promise<CreatedConnectLink> {
  let created: CreatedConnectLink;
  try {
    created = await core.oauth.connectLinks.create(input, actor, allow);
  } catch (err) {
    if (err instanceof Forbidden && actor.type === 'agent') {
      await core.audit.record({
        actor,
        action: 'connect_link.create',
        outcome: 'denied',
        connection: input.connection ?? input.name ?? null,
        detail: { reason: err.message },
      });
    }
    throw err;
  }
  try {
    const event = { connection: created.view.connection ?? created.view.name, detail: auditDetail(created) };
    await core.audit.record({ actor, action: 'connect_link.create', outcome: 'success', ...event });
  } catch (err) {
    await core.oauth.connectLinks.remove(created.id).catch(() => undefined);
    throw err;
  }
  return created;
}

/** Admin-scope routes: listing and removing links (registered inside the admin plugin). */
export async function connectLinkAdminRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.get<{ Querystring: PageQuery }>(
    '/v1/connect-links',
    { schema: { querystring: connectLinkListQuery, response: { 200: connectLinkList } } },
    async (request, reply) =>
      listPage(request, reply, { list: 'connect-links', keyLength: 2 }, (page) => core.oauth.connectLinks.list(page), (l) => [l.createdAt, l.id], (rows) => rows),
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/connect-links/:id',
    { config: { role: 'operator' }, schema: { params: connectLinkParams, response: { 200: connectLinkSchema } } },
    async (request) => {
      const removed = await core.oauth.connectLinks.remove(request.params.id);
      await core.audit.admin('connect_link.remove', { connection: removed.connection ?? removed.name, detail: { link: removed.id } });
      return removed;
    },
  );
}

/**
 * POST /v1/connect-links: the operator, or an agent for a connection its
 * policy names (an MCP host asking its user to connect an account).
 */
export async function connectLinkCreateRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  const agents = new WeakMap<FastifyRequest, AuthenticatedAgent>();
  app.addHook('onRequest', async (request) => {
    // A console session rides on a cookie: refuse what another site's page sends (scripts and agents send no Origin).
    refuseCrossOrigin(core, request);
    // A principal's role for the route is checked in there.
    const by = await authenticateAdminOrAgent(core, request);
    if (!('kind' in by)) agents.set(request, by);
  });
  app.post<{ Body: ConnectLinkInput }>(
    '/v1/connect-links',
    { config: { role: 'operator' }, schema: { body: createConnectLinkBody, response: { 201: createdConnectLink } } },
    async (request, reply: FastifyReply) => {
      const agent = agents.get(request);
      let created: CreatedConnectLink;
      if (agent === undefined) {
        const actor = actorOf(principalOf(request));
        created = await actingAs(actor, () => createAudited(core, request.body, actor));
      } else {
        created = await createAudited(core, request.body, agentActorOf(agent), agentMay(agent));
      }
      return noStore(reply).code(201).send({ id: created.id, url: created.url, expiresAt: created.expiresAt });
    },
  );
}
