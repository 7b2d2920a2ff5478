import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthenticatedAgent } from '../../agents/index.js';
import { CAPABILITY_NAME_PATTERN, CONNECTION_NAME_PATTERN } from '../../api/index.js';
import { grantedCapabilities, mayUseConnection } from '../../agents/index.js';
import { lineMap, lineString, nameString, pathString } from '../../api/index.js';
import type { BrokeredResponse, InvokeInput } from '../../broker/index.js';
import { Unauthorized } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { actingAs } from '../../audit/index.js';
import { actorOf, authenticateAdminOrAgent, authenticateAgent, principalOf } from '../auth.js';
import { noStore } from '../no-store.js';

const agents = new WeakMap<FastifyRequest, AuthenticatedAgent>();

const invokeBody = {
  type: 'object',
  additionalProperties: false,
  properties: { method: { ...lineString, maxLength: 16 }, path: pathString, query: lineMap, headers: lineMap, body: {} },
} as const;
/** Names by the shared rules, so a "..", "." or "a/b" segment is a 400 before any lookup. */
const invokeParams = {
  type: 'object',
  required: ['connection', 'capability'],
  properties: {
    connection: { type: 'string', pattern: CONNECTION_NAME_PATTERN },
    capability: { type: 'string', pattern: CAPABILITY_NAME_PATTERN },
  },
} as const;
const leaseBody = {
  type: 'object',
  additionalProperties: false,
  required: ['connection'],
  properties: { connection: nameString, ttl: { anyOf: [{ type: 'integer', minimum: 1 }, { ...lineString, maxLength: 32 }] } },
} as const;

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
    api.addHook('onRequest', agentAuth(core));

    api.post<{ Params: { connection: string; capability: string }; Body: InvokeInput | undefined }>(
      '/v1/invoke/:connection/:capability',
      { schema: { params: invokeParams, body: invokeBody } },
      async (request, reply) => {
        const { connection, capability } = request.params;
        return send(reply, await core.broker.invoke(agentOf(request), connection, capability, request.body ?? {}));
      },
    );

    api.get('/v1/me', async (request) => {
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

    api.post<{ Body: { connection: string; ttl?: string | number } }>(
      '/v1/leases',
      { schema: { body: leaseBody } },
      async (request, reply) => noStore(reply).code(201).send(await core.leases.create(agentOf(request), request.body)),
    );
  });

  // Ending a lease is open to the agent holding it and to operators (role operator or above).
  await app.register(async (either) => {
    either.addHook('onRequest', async (request) => {
      const by = await authenticateAdminOrAgent(core, request);
      if (!('kind' in by)) agents.set(request, by);
    });
    either.delete<{ Params: { id: string }; Querystring: { rotate?: string } }>(
      '/v1/leases/:id',
      {
        config: { role: 'operator' },
        schema: { querystring: { type: 'object', additionalProperties: false, properties: { rotate: { enum: ['true', 'false', '1', '0'] } } } },
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
