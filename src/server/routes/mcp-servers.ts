import type { FastifyInstance } from 'fastify';
import {
  clientMetadataDocument,
  createMcpServerBody,
  mcpServerParams,
  pageOf,
  pagedQuery,
  mcpServerRemoved,
  mcpServerView,
  removeMcpServerQuery,
} from '../../api/index.js';
import { CLIENT_METADATA_PATH, clientMetadataUrl, type McpServerInput } from '../../gateway/index.js';
import { NotFound } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { listPage, type PageQuery } from '../paging.js';

/** Upstream MCP servers (admin role): adding one discovers it, registers Latchkey there and makes its provider. */
export async function mcpServerRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.post<{ Body: McpServerInput }>(
    '/v1/mcp-servers',
    { schema: { body: createMcpServerBody, response: { 201: mcpServerView } }, config: { role: 'admin' } },
    async (request, reply) => {
      const { server } = await core.gateway.servers.add(request.body);
      request.log.info({ mcpServer: server.name, registration: server.registration }, 'MCP server added');
      await core.audit.admin('mcp_server.create', {
        detail: { server: server.name, url: server.url, issuer: server.issuer, registration: server.registration },
      });
      return reply.code(201).send(server);
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/v1/mcp-servers',
    { schema: { querystring: pagedQuery({}), response: { 200: pageOf(mcpServerView) } }, config: { role: 'viewer' } },
    async (request, reply) =>
      listPage(request, reply, { list: 'mcp-servers', keyLength: 1 }, (page) => core.gateway.servers.list(page), (s) => [s.name], (rows) => rows),
  );

  app.get<{ Params: { name: string } }>(
    '/v1/mcp-servers/:name',
    { schema: { params: mcpServerParams, response: { 200: mcpServerView } }, config: { role: 'viewer' } },
    async (request) => core.gateway.servers.get(request.params.name),
  );

  app.delete<{ Params: { name: string }; Querystring: { force?: string } }>(
    '/v1/mcp-servers/:name',
    { schema: { params: mcpServerParams, querystring: removeMcpServerQuery, response: { 200: mcpServerRemoved } }, config: { role: 'admin' } },
    async (request) => {
      const force = request.query.force === 'true' || request.query.force === '1';
      const removed = await core.gateway.servers.remove(request.params.name, { force });
      await core.audit.admin('mcp_server.delete', { detail: { server: request.params.name, ...removed } });
      return { deleted: true, ...removed };
    },
  );
}

/**
 * Latchkey's Client ID Metadata Document: public, as an authorization server
 * must fetch it. Served only when the public URL is https (only then can its
 * URL be a client_id).
 */
export async function clientMetadataRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  // Not part of the REST API (an OAuth document for authorization servers), so not in /openapi.json.
  app.get(CLIENT_METADATA_PATH, { schema: { response: { 200: clientMetadataDocument } }, config: { openapi: { hide: true } } }, async (_request, reply) => {
    const clientId = clientMetadataUrl(core.config.publicUrl);
    if (clientId === undefined) throw new NotFound('Latchkey publishes a client metadata document only when its public URL is https');
    return reply.header('cache-control', 'public, max-age=300').send({
      client_id: clientId,
      client_name: 'Latchkey',
      client_uri: core.config.publicUrl,
      redirect_uris: await core.gateway.servers.redirectUris(),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
  });
}
