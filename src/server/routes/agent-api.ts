import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthenticatedAgent } from '../../agents/index.js';
import { grantedCapabilities, mayUseConnection } from '../../agents/index.js';
import { invokeBody, invokeParams, leaseBody, leaseEndQuery, leaseEnded, leaseGranted, mcpToolCallBody, mcpToolParams, mcpToolResult, mcpToolView, pageOf, pagedQuery, meView, upstreamAnswer } from '../../api/index.js';
import type { ToolCallInput } from '../../gateway/index.js';
import type { BrokeredResponse, InvokeInput } from '../../broker/index.js';
import { Unauthorized } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { actingAs } from '../../audit/index.js';
import { actorOf, authenticateAdminOrAgent, authenticateAgent, principalOf } from '../auth.js';
import { noStore } from '../no-store.js';
import { listPage, type PageQuery } from '../paging.js';
import { securedBy } from '../openapi.js';

const agents = new WeakMap<FastifyRequest, AuthenticatedAgent>();

/** The agent a request authenticated as (set by the agent-auth hook). */
function agentOf(request: FastifyRequest): AuthenticatedAgent {
  const agent = agents.get(request);
  if (agent === undefined) throw new Unauthorized('a valid agent key is required');
  return agent;
}

/** Agent auth: a bad key is refused and audited as `auth.denied` (without the key). */
function agentAuth(core: Latchkey) {
  return async (request: FastifyRequest): Promise<void> => {
    agents.set(request, await authenticateAgent(core, request.raw));
  };
}

function send(reply: FastifyReply, result: BrokeredResponse): FastifyReply {
  return reply.code(result.status).headers(result.headers).send(result.body);
}

/** Agent-facing routes (api.md, "Agent-facing"), each scope with its own auth hook. */
export async function agentApiRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  await app.register(async (api) => {
    api.addHook('onRoute', securedBy(['agentKey']));
    api.addHook('onRequest', agentAuth(core));

    api.post<{ Params: { connection: string; capability: string }; Body: InvokeInput | undefined }>(
      '/v1/invoke/:connection/:capability',
      { schema: { params: invokeParams, body: invokeBody, response: { default: upstreamAnswer } } },
      async (request, reply) => {
        const { connection, capability } = request.params;
        return send(reply, await core.broker.invoke(agentOf(request), connection, capability, request.body ?? {}));
      },
    );

    api.get('/v1/me', { schema: { response: { 200: meView } } }, async (request) => {
      const agent = agentOf(request);
      const usable = (await core.connections.list({ environment: agent.environment })).filter((c) =>
        mayUseConnection(agent.policy, c.name),
      );
      return {
        id: agent.id,
        name: agent.name,
        environment: agent.environment,
        keyId: agent.keyId,
        policy: agent.policy,
        connections: await Promise.all(
          (await core.connections.present(usable)).map(async (view, i) => {
            const provider = await core.providers.getById((usable[i] as (typeof usable)[number]).providerId);
            return { ...view, capabilities: grantedCapabilities(agent.policy, view.name, provider.capabilities) };
          }),
        ),
      };
    });

    api.get<{ Querystring: PageQuery }>(
      '/v1/mcp-tools',
      { schema: { querystring: pagedQuery({}), response: { 200: pageOf(mcpToolView) } } },
      async (request, reply) => {
        // Computed from the upstreams (cached), not a table: paged by name over the whole list.
        const tools = (await core.gateway.tools.list(agentOf(request))).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        return listPage(
          request,
          reply,
          { list: 'mcp-tools', keyLength: 1 },
          async (page) => tools.filter((t) => page.after === undefined || t.name > (page.after[0] as string)).slice(0, page.limit),
          (t) => [t.name],
          (rows) => rows,
        );
      },
    );

    api.post<{ Params: { server: string; tool: string }; Body: ToolCallInput | undefined }>(
      '/v1/mcp-tools/:server/:tool',
      { schema: { params: mcpToolParams, body: mcpToolCallBody, response: { 200: mcpToolResult } } },
      async (request, reply) => {
        const { server, tool } = request.params;
        // The result is what the upstream answered, masked; it may still hold that server's data for this agent only.
        return noStore(reply).send(await core.gateway.tools.call(agentOf(request), server, tool, request.body ?? {}));
      },
    );

    api.post<{ Body: { connection: string; ttl?: string | number } }>(
      '/v1/leases',
      { schema: { body: leaseBody, response: { 201: leaseGranted } } },
      async (request, reply) => noStore(reply).code(201).send(await core.leases.create(agentOf(request), request.body)),
    );
  });

  // Ending a lease is open to the agent holding it and to operators (role operator or above).
  await app.register(async (either) => {
    either.addHook('onRoute', securedBy(['agentKey', 'adminToken', 'operatorKey', 'session']));
    either.addHook('onRequest', async (request) => {
      const by = await authenticateAdminOrAgent(core, request);
      if (!('kind' in by)) agents.set(request, by);
    });
    either.delete<{ Params: { id: string }; Querystring: { rotate?: string } }>(
      '/v1/leases/:id',
      {
        config: { role: 'operator' },
        schema: {
          querystring: leaseEndQuery,
          response: { 200: leaseEnded },
        },
      },
      async (request) => {
        const rotate = request.query.rotate === 'true' || request.query.rotate === '1';
        const agent = agents.get(request);
        if (agent !== undefined) return core.leases.end(agent, request.params.id, { rotate });
        return actingAs(actorOf(principalOf(request)), () => core.leases.end('admin', request.params.id, { rotate }));
      },
    );
  });
}
