import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { API_VERSION } from '../api/index.js';
import { NotFound } from '../errors.js';
import type { Latchkey } from '../latchkey.js';
import { pathOf } from '../log.js';
import { requireAdmin } from './auth.js';
import { errorBody, sendError } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { providerRoutes } from './routes/providers.js';
import { connectionRoutes } from './routes/connections.js';
import { keyRoutes } from './routes/keys.js';
import { tokenRoutes } from './routes/tokens.js';
import { webhookRoutes } from './routes/webhooks.js';
import { connectRoutes } from './routes/connect.js';
import { callbackRoutes } from './routes/callback.js';
import { agentRoutes } from './routes/agents.js';
import { auditRoutes } from './routes/audit.js';
import { agentApiRoutes } from './routes/agent-api.js';
import { clientMetadataRoutes, mcpServerRoutes } from './routes/mcp-servers.js';
import { metricsRoutes, requestMetrics } from './metrics.js';
import { PROXY_PREFIX, proxyHandler } from './proxy-handler.js';
import { hostGuard, refuseCrossOrigin } from './host-check.js';
import { frameworkError, guardInput } from './input.js';
import { boundedServer, clientErrorHandler } from './timeouts.js';
import { openApiCollector, securedBy } from './openapi.js';
import { openApiRoute } from './routes/openapi.js';

/** The HTTP server: each group of routes is a plugin with its own authentication hook. */
export async function buildServer(core: Latchkey): Promise<FastifyInstance> {
  const metrics = requestMetrics();
  const proxy = proxyHandler(core, metrics);
  const checkHost = hostGuard(core);
  const app = Fastify({
    // `/v1/proxy/…` is answered before Fastify routes anything (proxy-handler.ts says why).
    serverFactory: (fastifyHandler) =>
      boundedServer(
        { requestMs: core.config.requestTimeoutSeconds * 1000, bodyIdleMs: core.config.bodyIdleTimeoutSeconds * 1000 },
        (req, res) => {
          try {
            checkHost(req);
          } catch (err) {
            const { status, body } = errorBody(err);
            res.shouldKeepAlive = false;
            res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
            req.resume();
            return;
          }
          if (req.url?.startsWith(PROXY_PREFIX) === true) proxy(req, res);
          else fastifyHandler(req, res);
        },
      ),
    clientErrorHandler,
    frameworkErrors: frameworkError,
    // Names are up to 128 characters (api/text.ts); Fastify's default of 100 would refuse the longest.
    routerOptions: { maxParamLength: 512 },
    loggerInstance: core.logger as FastifyBaseLogger,
    bodyLimit: core.config.bodyLimit,
    trustProxy: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    requestIdHeader: false,
  });
  // Answers are serialized with JSON.stringify, never compiled from the response schemas: fast-json-stringify
  // would silently drop every field a schema does not declare. The schemas document the contract (OpenAPI)
  // and test/openapi.test.ts checks real answers against them; they never shape an answer.
  app.setReplySerializer((payload) => JSON.stringify(payload));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  const openapi = openApiCollector(app);
  guardInput(app);
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendError(new NotFound(`no route for ${request.method} ${pathOf(request.url)}`), request, reply),
  );

  await app.register(async (scope) => healthRoutes(scope, core));
  // The public contract: no authentication, like /healthz.
  await app.register(async (scope) => openApiRoute(scope, () => openapi.document({ version: API_VERSION, serverUrl: core.config.publicUrl })));
  // Not encapsulated, so its onResponse hook counts requests of every scope.
  await metricsRoutes(app, core, metrics);

  await app.register(async (admin) => {
    admin.addHook('onRoute', securedBy(['adminToken', 'operatorKey', 'session']));
    admin.addHook('onRequest', async (request) => {
      refuseCrossOrigin(core, request);
      await requireAdmin(core, request);
    });
    // Fail closed, as the proxy does: a change is recorded before it is made, so
    // a broken audit log refuses it (503 audit_unavailable) instead of leaving it unaudited.
    admin.addHook('preHandler', async (request) => {
      if (request.method === 'GET' || request.method === 'HEAD') return;
      await core.audit.admin('admin.request.begin', {
        detail: { method: request.method, route: request.routeOptions.url ?? 'unmatched' },
      });
    });
    await providerRoutes(admin, core);
    await connectionRoutes(admin, core);
    await keyRoutes(admin, core);
    await tokenRoutes(admin, core);
    await webhookRoutes(admin, core);
    await connectRoutes(admin, core);
    await agentRoutes(admin, core);
    await auditRoutes(admin, core);
    await mcpServerRoutes(admin, core);
  });

  await app.register(async (scope) => callbackRoutes(scope, core));
  await app.register(async (scope) => clientMetadataRoutes(scope, core));
  // Agent-facing routes authenticate agent keys in their own hooks, never the admin token.
  await app.register(async (scope) => agentApiRoutes(scope, core));

  return app;
}

