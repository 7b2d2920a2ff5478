import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { AuthenticatedAgent } from '../../agents/index.js';
import { grantedCapabilities, mayUseConnection } from '../../agents/index.js';
import { ANONYMOUS_ACTOR } from '../../audit/index.js';
import type { BrokeredResponse, InvokeInput } from '../../broker/index.js';
import { Forbidden, InvalidRequest, Unauthorized } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { pathOf } from '../../log.js';
import { credentialOf, safeEqual } from '../auth.js';

export const PROXY_PREFIX = '/v1/proxy/';
const agents = new WeakMap<FastifyRequest, AuthenticatedAgent>();

const str = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string', maxLength: 8192 }, maxProperties: 100 } as const;
const invokeBody = {
  type: 'object',
  additionalProperties: false,
  properties: { method: str, path: str, query: stringMap, headers: stringMap, body: {} },
} as const;
const leaseBody = {
  type: 'object',
  additionalProperties: false,
  required: ['connection'],
  properties: { connection: str, ttl: { anyOf: [{ type: 'integer', minimum: 1 }, str] } },
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
    try {
      agents.set(request, await core.agents.authenticate(credentialOf(request)));
    } catch (err) {
      await core.audit.record({
        actor: ANONYMOUS_ACTOR,
        action: 'auth.denied',
        outcome: 'denied',
        detail: { reason: 'unauthorized', method: request.method, path: pathOf(request.url).slice(0, 200) },
      });
      throw err;
    }
  };
}

function send(reply: FastifyReply, result: BrokeredResponse): FastifyReply {
  return reply.code(result.status).headers(result.headers).send(result.body);
}

/** Splits the raw, still-encoded request URL: a decoded path would hide `%2f` and `%2e%2e` from the target checks. */
function splitProxyUrl(rawUrl: string): { connection: string; rawPath: string; rawQuery: string } {
  const q = rawUrl.indexOf('?');
  const pathPart = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const rest = pathPart.slice(PROXY_PREFIX.length);
  const slash = rest.indexOf('/');
  const segment = slash === -1 ? rest : rest.slice(0, slash);
  let connection: string;
  try {
    connection = decodeURIComponent(segment);
  } catch {
    throw new InvalidRequest('the connection name is not valid');
  }
  return { connection, rawPath: slash === -1 ? '' : rest.slice(slash), rawQuery: q === -1 ? '' : rawUrl.slice(q + 1) };
}

/** Agent-facing routes (api.md, "Agent-facing"), each scope with its own auth hook. */
export async function agentApiRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  await app.register(async (proxy) => {
    // Bodies pass through as streams: the proxy never buffers a large body whole.
    proxy.removeAllContentTypeParsers();
    proxy.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    proxy.addHook('onRequest', agentAuth(core));
    // Fastify's own request logging is off for this route (app.ts); one debug line instead.
    if (core.logger.isLevelEnabled('debug')) {
      proxy.addHook('onResponse', async (request, reply) => {
        request.log.debug({ method: request.method, path: pathOf(request.url), statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'proxied request');
      });
    }
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const { connection, rawPath, rawQuery } = splitProxyUrl(request.raw.url ?? '');
      const length = request.headers['content-length'];
      const chunked = request.headers['transfer-encoding'] !== undefined;
      const result = await core.broker.proxy(agentOf(request), {
        connection,
        method: request.method,
        rawPath,
        rawQuery,
        headers: request.headers,
        body: (request.body as Readable | undefined) ?? undefined,
        declaredLength: chunked || length === undefined ? undefined : Number(length),
      });
      return send(reply, result);
    };
    proxy.all('/v1/proxy/:connection', handler);
    proxy.all('/v1/proxy/:connection/*', handler);
  });

  await app.register(async (api) => {
    api.addHook('onRequest', agentAuth(core));

    api.post<{ Params: { connection: string; capability: string }; Body: InvokeInput | undefined }>(
      '/v1/invoke/:connection/:capability',
      { schema: { body: invokeBody } },
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
      async (request, reply) => reply.code(201).send(await core.leases.create(agentOf(request), request.body)),
    );
  });

  // Ending a lease is open to the agent holding it and to the operator.
  await app.register(async (either) => {
    either.addHook('onRequest', async (request) => {
      const credential = credentialOf(request);
      if (credential !== undefined && safeEqual(credential, core.adminToken)) return;
      await agentAuth(core)(request);
    });
    either.delete<{ Params: { id: string }; Querystring: { rotate?: string } }>(
      '/v1/leases/:id',
      { schema: { querystring: { type: 'object', additionalProperties: false, properties: { rotate: { enum: ['true', 'false', '1', '0'] } } } } },
      async (request) => {
        const by = agents.get(request) ?? 'admin';
        const rotate = request.query.rotate === 'true' || request.query.rotate === '1';
        if (by !== 'admin' && rotate && !by.policy.lease.allowed) throw new Forbidden('this agent may not rotate leases');
        return core.leases.end(by, request.params.id, { rotate });
      },
    );
  });
}
