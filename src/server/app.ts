import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { API_VERSION } from '../api/index.js';
import { NotFound } from '../errors.js';
import type { Latchkey } from '../latchkey.js';
import { pathOf } from '../log.js';
import { actingAs } from '../audit/index.js';
import { actorOf, authenticatePrincipal, principalOf, rememberPrincipal } from './auth.js';
import { sourceOf } from './auth-limit.js';
import { defaultRole, requireRole, requiredRole, type AdminRoute } from './roles.js';
import { operatorRoutes } from './routes/operators.js';
import { sessionRoutes } from './routes/sessions.js';
import { errorBody, sendError } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { providerRoutes } from './routes/providers.js';
import { connectionRoutes } from './routes/connections.js';
import { keyRoutes } from './routes/keys.js';
import { tokenRoutes } from './routes/tokens.js';
import { webhookRoutes } from './routes/webhooks.js';
import { connectRoutes } from './routes/connect.js';
import { callbackRoutes } from './routes/callback.js';
import { connectLinkAdminRoutes, connectLinkCreateRoutes } from './routes/connect-links.js';
import { connectPageRoutes } from './routes/connect-pages.js';
import { agentRoutes } from './routes/agents.js';
import { auditRoutes } from './routes/audit.js';
import { statusRoutes } from './routes/status.js';
import { agentApiRoutes } from './routes/agent-api.js';
import { consoleRoutes } from './console.js';
import { proposalDecisionRoutes, proposalRoutes } from './routes/proposals.js';
import { clientMetadataRoutes, mcpServerRoutes } from './routes/mcp-servers.js';
import { metricsRoutes, requestMetrics } from './metrics.js';
import { PROXY_PREFIX, proxyHandler } from './proxy-handler.js';
import { hostGuard, refuseCrossOrigin } from './host-check.js';
import { frameworkError, guardInput } from './input.js';
import { boundedServer, clientErrorHandler } from './timeouts.js';
import { openApiCollector, securedBy } from './openapi.js';
import { openApiRoute } from './routes/openapi.js';
import { MCP_OAUTH_PREFIX, MCP_PATH, mcpAuthorizationServer } from './mcp/authorization-server.js';
import { mcpEndpoint } from './mcp/endpoint.js';
import { asRequester } from './mcp/cimd.js';
import { mcpMetadataRoutes } from './routes/mcp-metadata.js';
import { mcpConsentRoutes } from './routes/mcp-consent.js';
import { mcpClientRoutes } from './routes/mcp-clients.js';

export { MCP_REGISTRATIONS_PER_HOUR } from './mcp/admission.js';

/** The HTTP server: each group of routes is a plugin with its own authentication hook. */
export async function buildServer(core: Latchkey): Promise<FastifyInstance> {
  const metrics = requestMetrics();
  const proxy = proxyHandler(core, metrics);
  const checkHost = hostGuard(core);
  const mcpAs = mcpAuthorizationServer(core);
  // Declared before the app so the factory's handler can ask where it listens (the tools call back into it).
  let listening: () => ReturnType<FastifyInstance['server']['address']> = () => null;
  const mcp = mcpEndpoint(core, mcpAs, () => listening());
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
          const url = req.url ?? '/';
          if (url.startsWith(PROXY_PREFIX)) proxy(req, res);
          // MCP over Streamable HTTP and its authorization server speak their own protocols on raw node requests.
          else if (url === MCP_PATH || url.startsWith(`${MCP_PATH}?`)) {
            mcp(req, res).catch((err: unknown) => {
              core.logger.error({ err }, 'the /mcp endpoint failed a request');
              if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end('{"error":"internal_error","message":"internal error"}');
            });
          }
          // Its per-address limits are inside it (mcp/admission.ts), on the routes its router matches.
          else if (url.startsWith(`${MCP_OAUTH_PREFIX}/`)) asRequester(sourceOf(req, core.config.trustProxy), () => mcpAs.handle(req, res));
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
  listening = () => app.server.address();
  // Expired codes, tokens, interactions and sessions of the /mcp authorization server are dropped now and then.
  const sweep = setInterval(() => {
    core.store.mcpOauth.removeExpired(core.clock.now().toISOString()).catch((err: unknown) => core.logger.warn({ err }, 'could not drop expired MCP authorization rows'));
  }, 10 * 60_000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));
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

  const adminRoutes: AdminRoute[] = [];
  app.decorate('adminRoutes', adminRoutes);
  await app.register(async (scope) => sessionRoutes(scope, core));

  await app.register(async (admin) => {
    // Every admin route, also those other plugins add to this scope, runs as its principal:
    // `core.audit.admin(...)` inside it records the operator by name (audit/acting.ts).
    admin.addHook('onRoute', (route) => {
      // Each route's least role, made explicit in its options (for the OpenAPI document and the route table).
      for (const method of [route.method].flat()) {
        const role = route.config?.role ?? defaultRole(method, route.url);
        route.config = { ...route.config, role };
        adminRoutes.push({ method, url: route.url, role });
      }
      const handler = route.handler;
      route.handler = function (this: FastifyInstance, request, reply) {
        return actingAs(actorOf(principalOf(request)), () => handler.call(this, request, reply));
      };
    });
    admin.addHook('onRoute', securedBy(['adminToken', 'operatorKey', 'session']));
    admin.addHook('onRequest', async (request) => {
      refuseCrossOrigin(core, request);
      const principal = await authenticatePrincipal(core, request);
      await requireRole(core, request, principal, requiredRole(request));
      rememberPrincipal(request, principal);
    });
    // Fail closed, as the proxy does: a change is recorded before it is made, so
    // a broken audit log refuses it (503 audit_unavailable) instead of leaving it unaudited.
    admin.addHook('preHandler', async (request) => {
      if (request.method === 'GET' || request.method === 'HEAD') return;
      await core.audit.record({
        actor: actorOf(principalOf(request)),
        action: 'admin.request.begin',
        outcome: 'success',
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
    await proposalDecisionRoutes(admin, core);
    await mcpServerRoutes(admin, core);
    await statusRoutes(admin, core);
    await operatorRoutes(admin, core);
    await connectLinkAdminRoutes(admin, core);
    await mcpConsentRoutes(admin, core, mcpAs);
    await mcpClientRoutes(admin, core, mcpAs);
  });
  await app.register(async (scope) => mcpMetadataRoutes(scope, core, mcpAs));
  // Open to the operator and to agents (for a connection their policy names); its own auth hook.
  await app.register(async (scope) => connectLinkCreateRoutes(scope, core));
  await app.register(async (scope) => connectPageRoutes(scope, core));

  await app.register(async (scope) => callbackRoutes(scope, core));
  await app.register(async (scope) => clientMetadataRoutes(scope, core));
  // Agent-facing routes authenticate agent keys in their own hooks, never the admin token.
  await app.register(async (scope) => agentApiRoutes(scope, core));
  await app.register(async (scope) => proposalRoutes(scope, core));
  // The web console's static files: public, they hold nothing but the app.
  await app.register(async (scope) => consoleRoutes(scope));

  return app;
}

