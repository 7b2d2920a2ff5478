import type { FastifyInstance } from 'fastify';
import { agentParams, deletedResponse, mcpClientGrantList, mcpClientGrantParams } from '../../api/index.js';
import type { Latchkey } from '../../latchkey.js';
import { mcpClientGrants } from '../mcp/grants.js';
import type { McpAuthorizationServer } from '../mcp/authorization-server.js';

/**
 * The MCP clients (remote MCP hosts) an operator consented to act as an agent,
 * and their revocation. A grant is independent of the agent's API keys: this is
 * how an operator ends one without deleting the agent.
 */
export async function mcpClientRoutes(app: FastifyInstance, core: Latchkey, as: McpAuthorizationServer): Promise<void> {
  const grants = mcpClientGrants({ store: core.store.mcpOauth, clock: core.clock, documents: as.documents });

  app.get<{ Params: { id: string } }>(
    '/v1/agents/:id/mcp-clients',
    { config: { role: 'viewer' }, schema: { params: agentParams, response: { 200: mcpClientGrantList } } },
    async (request) => grants.list((await core.agents.get(request.params.id)).id),
  );

  app.delete<{ Params: { id: string; grantId: string } }>(
    '/v1/agents/:id/mcp-clients/:grantId',
    { config: { role: 'operator' }, schema: { params: mcpClientGrantParams, response: { 200: deletedResponse } } },
    async (request) => {
      const agent = await core.agents.get(request.params.id);
      const revoked = await grants.revoke(agent.id, request.params.grantId);
      await core.audit.admin('mcp.client.revoke', { detail: { agent: agent.name, agentId: agent.id, mcpClient: revoked.clientId.slice(0, 300), grant: revoked.id } });
      return { deleted: true };
    },
  );
}
