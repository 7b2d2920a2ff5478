import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  clientMetadataDocument,
  createMcpServerBody,
  mcpServerParams,
  pageOf,
  pagedQuery,
  providerDeleted,
  mcpServerView,
  forceQuery,
} from '../../api/index.js';
import { CLIENT_METADATA_PATH, LEGACY_CLIENT_METADATA_PATH, type McpServerInput } from '../../gateway/index.js';
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
    { schema: { params: mcpServerParams, querystring: forceQuery, response: { 200: providerDeleted } }, config: { role: 'admin' } },
    async (request) => {
      const force = request.query.force === 'true' || request.query.force === '1';
      const removed = await core.gateway.servers.remove(request.params.name, { force });
      await core.audit.admin('mcp_server.delete', { detail: { server: request.params.name, ...removed } });
      return { deleted: true, ...removed };
    },
  );
}

/**
 * Latchkey's Client ID Metadata Documents, one per MCP server registered by
 * CIMD: public, as an authorization server must fetch them. Each lists only
 * its server's callback; unknown servers, servers registered otherwise and a
 * public URL that is not https (none can be a client_id) are all 404.
 */
export async function clientMetadataRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  const document = async (reply: FastifyReply, server: { name: string; id: string } | undefined): Promise<FastifyReply> => {
    const metadata = await core.gateway.servers.clientMetadata(server);
    if (metadata === undefined) throw new NotFound('no client metadata document here');
    return reply.header('cache-control', 'public, max-age=300').send({
      client_id: metadata.clientId,
      client_name: metadata.clientName,
      client_uri: core.config.publicUrl,
      redirect_uris: metadata.redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
  };
  // Not part of the REST API (OAuth documents for authorization servers), so not in /openapi.json.
  const options = { schema: { response: { 200: clientMetadataDocument } }, config: { openapi: { hide: true } } };
  app.get<{ Params: { name: string; id: string } }>(`${CLIENT_METADATA_PATH}/:name/:id`, options, async (request, reply) =>
    document(reply, { name: request.params.name, id: request.params.id }),
  );
  // The shared document of earlier versions, kept for the servers registered with it (decisions.md).
  app.get(LEGACY_CLIENT_METADATA_PATH, options, async (request, reply) => {
    const sent = await document(reply, undefined);
    request.log.warn('served the shared client metadata document: re-add the MCP servers whose clientId is this URL to give each its own');
    return sent;
  });
}
