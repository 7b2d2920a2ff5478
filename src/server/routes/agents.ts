import type { FastifyInstance } from 'fastify';
import {
  agentCreated,
  agentDetail,
  agentKeyCreated,
  agentView,
  deletedResponse,
  leaseView,
  agentKeyParams as keyParams,
  agentParams as idParams,
  createAgentBody,
  updateAgentBody,
  pagedQuery,
  pageOf,
} from '../../api/index.js';
import type { Agent } from '../../agents/index.js';
import type { Latchkey } from '../../latchkey.js';
import { noStore } from '../no-store.js';
import { listPage, type PageQuery } from '../paging.js';

function view(agent: Agent) {
  return { id: agent.id, name: agent.name, environment: agent.environment, policy: agent.policy, createdAt: agent.createdAt, updatedAt: agent.updatedAt };
}

/** Admin routes for agents, their keys and leases (api.md, "Agents"). */
export async function agentRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.post<{ Body: { name: string; environment?: string; policy?: unknown } }>(
    '/v1/agents',
    { schema: { body: createAgentBody, response: { 201: agentCreated } } },
    async (request, reply) => {
      const { agent, key } = await core.agents.create(request.body);
      await core.audit.admin('agent.create', { detail: { agent: agent.name, agentId: agent.id, keyId: key.id } });
      // The key is shown here once; only its hash is stored.
      return noStore(reply).code(201).send({ ...view(agent), keyId: key.id, apiKey: key.apiKey });
    },
  );

  app.get<{ Querystring: PageQuery }>('/v1/agents', { schema: { querystring: pagedQuery({}), response: { 200: pageOf(agentView) } } }, async (request, reply) =>
    listPage(request, reply, { list: 'agents', keyLength: 1 }, (page) => core.agents.list(page), (a) => [a.name], (rows) => rows.map(view)),
  );

  app.get<{ Params: { id: string } }>('/v1/agents/:id', { schema: { params: idParams, response: { 200: agentDetail } } }, async (request) => {
    const agent = await core.agents.get(request.params.id);
    return { ...view(agent), keys: await core.agents.listKeys(agent.id) };
  });

  app.patch<{ Params: { id: string }; Body: { policy: unknown } }>(
    '/v1/agents/:id',
    { schema: { params: idParams, body: updateAgentBody, response: { 200: agentView } } },
    async (request) => {
      const agent = await core.agents.updatePolicy(request.params.id, request.body.policy);
      await core.audit.admin('agent.update', { detail: { agent: agent.name, agentId: agent.id } });
      return view(agent);
    },
  );

  app.delete<{ Params: { id: string } }>('/v1/agents/:id', { schema: { params: idParams, response: { 200: deletedResponse } } }, async (request) => {
    const agent = await core.agents.remove(request.params.id);
    await core.audit.admin('agent.delete', { detail: { agent: agent.name, agentId: agent.id } });
    return { deleted: true };
  });

  app.post<{ Params: { id: string } }>('/v1/agents/:id/keys', { schema: { params: idParams, response: { 201: agentKeyCreated } } }, async (request, reply) => {
    const agent = await core.agents.get(request.params.id);
    const key = await core.agents.addKey(agent.id);
    await core.audit.admin('agent.key_create', { detail: { agent: agent.name, agentId: agent.id, keyId: key.id } });
    return noStore(reply).code(201).send({ id: key.id, agentId: agent.id, apiKey: key.apiKey, createdAt: key.createdAt });
  });

  app.delete<{ Params: { id: string; keyId: string } }>(
    '/v1/agents/:id/keys/:keyId',
    { schema: { params: keyParams, response: { 200: deletedResponse } } },
    async (request) => {
      const agent = await core.agents.removeKey(request.params.id, request.params.keyId);
      await core.audit.admin('agent.key_delete', { detail: { agent: agent.name, agentId: agent.id, keyId: request.params.keyId } });
      return { deleted: true };
    },
  );

  app.get<{ Querystring: PageQuery }>('/v1/leases', { schema: { querystring: pagedQuery({}), response: { 200: pageOf(leaseView) } } }, async (request, reply) =>
    listPage(
      request,
      reply,
      { list: 'leases', keyLength: 2 },
      (page) => core.leases.listActive({}, page),
      (l) => [l.expiresAt, l.id],
      (rows) => rows,
    ),
  );
}
