import type { FastifyInstance } from 'fastify';
import { mcpConsentDecision, mcpConsentParams, mcpConsentResult, mcpConsentView, type McpConsentDecision } from '../../api/index.js';
import { Conflict, NotFound } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { MCP_SCOPE, mcpResource, type McpAuthorizationServer } from '../mcp/authorization-server.js';
import { noStore } from '../no-store.js';

const OIDC_SCOPES = new Set(['openid', 'offline_access', MCP_SCOPE]);

function scopesOf(params: Record<string, unknown>): string[] {
  return typeof params.scope === 'string' ? params.scope.split(' ').filter((s) => s !== '') : [];
}

/**
 * The consent step of an MCP client's authorization (the console's page
 * /console/mcp/consent/{uid} drives it): an operator sees the client and
 * chooses the agent it acts as. The browser that started the authorization
 * then resumes it at the authorization server, which only that browser can
 * (oidc-provider binds the resume to its cookie).
 */
export async function mcpConsentRoutes(app: FastifyInstance, core: Latchkey, as: McpAuthorizationServer): Promise<void> {
  async function pending(uid: string) {
    await as.ready();
    const provider = as.provider();
    const interaction = await provider.Interaction.find(uid);
    if (interaction === undefined) throw new NotFound('no MCP authorization is waiting under this id (it may have expired or been decided)');
    const clientId = String(interaction.params.client_id ?? '');
    const client = await provider.Client.find(clientId);
    if (client === undefined) throw new NotFound('the MCP client of this authorization is no longer known');
    return { provider, interaction, client, clientId };
  }

  app.get<{ Params: { uid: string } }>(
    '/v1/mcp-consent/:uid',
    { config: { role: 'operator' }, schema: { params: mcpConsentParams, response: { 200: mcpConsentView } } },
    async (request) => {
      const { interaction, client, clientId } = await pending(request.params.uid);
      const fromDocument = as.documents.isDocumentUrl(clientId);
      return {
        uid: interaction.uid,
        client: {
          clientId,
          name: client.clientName ?? null,
          uri: client.clientUri ?? null,
          registration: fromDocument ? 'metadata_document' : 'dynamic',
          metadataUrl: fromDocument ? clientId : null,
        },
        redirectUri: String(interaction.params.redirect_uri ?? ''),
        scopes: scopesOf(interaction.params),
        resource: String(interaction.params.resource ?? mcpResource(core.config.publicUrl)),
        expiresAt: new Date(interaction.exp * 1000).toISOString(),
      };
    },
  );

  app.post<{ Params: { uid: string }; Body: McpConsentDecision }>(
    '/v1/mcp-consent/:uid',
    { config: { role: 'operator' }, schema: { params: mcpConsentParams, body: mcpConsentDecision, response: { 200: mcpConsentResult } } },
    async (request, reply) => {
      const { provider, interaction, clientId } = await pending(request.params.uid);
      if (interaction.result !== undefined) throw new Conflict('this MCP authorization was already decided');
      // The check above and the save below are not one step: concurrent decisions (two operators, two
      // replicas) would all pass it and all be audited while the last save wins. The claim lets one through.
      if (!(await as.claimDecision(interaction.uid, new Date(interaction.exp * 1000)))) throw new Conflict('this MCP authorization was already decided');
      let saved = false;
      try {
        const ttl = Math.max(1, interaction.exp - Math.floor(Date.now() / 1000));
        const body = request.body;
        if (body.deny === true) {
          interaction.result = { error: 'access_denied', error_description: 'an operator denied this client' };
          await interaction.save(ttl);
          saved = true;
          await core.audit.admin('mcp.client.deny', { detail: { mcpClient: clientId.slice(0, 300) } });
          return noStore(reply).send({ redirectTo: interaction.returnTo, decision: 'denied', agent: null });
        }
        let agent;
        if (body.newAgent !== undefined) {
          // Default deny: the new agent may do nothing until an operator gives it a policy (or approves its proposals).
          const created = await core.agents.create({ name: body.newAgent.name, ...(body.newAgent.environment ? { environment: body.newAgent.environment } : {}), policy: { rules: [] } });
          agent = created.agent;
          await core.audit.admin('agent.create', { detail: { agent: agent.name, agentId: agent.id, via: 'mcp-consent' } });
        } else {
          agent = await core.agents.get(body.agent ?? '');
        }
        const resource = String(interaction.params.resource ?? mcpResource(core.config.publicUrl));
        const grant = new provider.Grant({ accountId: agent.id, clientId });
        for (const scope of scopesOf(interaction.params).filter((s) => OIDC_SCOPES.has(s))) grant.addOIDCScope(scope);
        grant.addResourceScope(resource, MCP_SCOPE);
        const grantId = await grant.save();
        interaction.result = { login: { accountId: agent.id, remember: false }, consent: { grantId } };
        await interaction.save(ttl);
        saved = true;
        await core.audit.admin('mcp.client.authorize', { detail: { mcpClient: clientId.slice(0, 300), agent: agent.name, agentId: agent.id } });
        return noStore(reply).send({ redirectTo: interaction.returnTo, decision: 'approved', agent: { id: agent.id, name: agent.name } });
      } catch (err) {
        // Nothing was decided: the operator may try again (e.g. with an agent that exists).
        if (!saved) await as.releaseDecision(interaction.uid);
        throw err;
      }
    },
  );
}
