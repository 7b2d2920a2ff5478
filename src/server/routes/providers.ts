import type { FastifyInstance } from 'fastify';
import {
  createProviderBody,
  forceQuery,
  idParams,
  nameParams,
  presetView,
  providerClientView,
  providerDeleted,
  providerView,
  updateProviderBody,
  updateProviderClientBody,
} from '../../api/index.js';
import { fromRow } from '../../connections/index.js';
import type { Latchkey } from '../../latchkey.js';
import { redirectUriOf } from '../../oauth/index.js';
import {
  PRESETS,
  providerHealth,
  statusView,
  toPublicProvider,
  type ClientSecretInput,
  type Provider,
  type ProviderFault,
  type ProviderInput,
} from '../../providers/index.js';

/** Turning off browser binding weakens the consent flow: the audit trail says so wherever it is on. */
function bindingDetail(provider: Provider): { unboundCallback?: true } {
  return provider.quirks.unboundCallback === true ? { unboundCallback: true } : {};
}

const clientParams = {
  type: 'object',
  required: ['name', 'id'],
  properties: { name: nameParams.properties.name, id: idParams.properties.id },
} as const;

export async function providerRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  const health = providerHealth(core);
  // redirectUri: the one to register at the provider (it depends on RFC 9207 support, see oauth/authorization.ts).
  const view = (provider: Provider, fault: ProviderFault | undefined) => ({
    ...toPublicProvider(provider),
    redirectUri: redirectUriOf(core.config.publicUrl, provider),
    ...statusView(fault),
  });
  const viewOne = async (provider: Provider) => view(provider, await health.find(provider.id));

  app.get('/v1/presets', { schema: { response: { 200: { type: 'array', items: presetView } } } }, async () =>
    PRESETS.map((p) => ({
      name: p.name,
      displayName: p.displayName,
      issuer: p.issuer ?? null,
      authorizationEndpoint: p.authorizationEndpoint,
      tokenEndpoint: p.tokenEndpoint,
      revocationEndpoint: p.revocationEndpoint ?? null,
      deviceAuthorizationEndpoint: p.deviceAuthorizationEndpoint ?? null,
      scopes: p.scopes,
      apiBaseUrl: p.apiBaseUrl,
      allowedHosts: p.allowedHosts,
      capabilities: p.capabilities,
      quirks: p.quirks,
      docsUrl: p.docsUrl,
    })),
  );

  app.post<{ Body: ProviderInput }>('/v1/providers', { schema: { body: createProviderBody, response: { 201: providerView } } }, async (request, reply) => {
    const provider = await core.providers.create(request.body);
    request.log.info({ provider: provider.name }, 'provider created');
    await core.audit.admin('provider.create', { detail: { provider: provider.name, ...bindingDetail(provider) } });
    return reply.code(201).send(await viewOne(provider));
  });

  app.get('/v1/providers', { schema: { response: { 200: { type: 'array', items: providerView } } } }, async () => {
    const faults = await health.list();
    return (await core.providers.list()).map((p) => view(p, faults.get(p.id)));
  });

  app.get<{ Params: { name: string } }>('/v1/providers/:name', { schema: { params: nameParams, response: { 200: providerView } } }, async (request) =>
    viewOne(await core.providers.get(request.params.name)),
  );

  app.patch<{ Params: { name: string }; Body: ProviderInput }>(
    '/v1/providers/:name',
    { schema: { params: nameParams, body: updateProviderBody, response: { 200: providerView } } },
    async (request) => {
      const provider = await core.providers.update(request.params.name, request.body);
      await core.audit.admin('provider.update', { detail: { provider: provider.name, ...bindingDetail(provider) } });
      return viewOne(provider);
    },
  );

  // The provider's OAuth clients (never a secret): the default one and those imported grants were minted with.
  app.get<{ Params: { name: string } }>(
    '/v1/providers/:name/clients',
    { schema: { params: nameParams, response: { 200: { type: 'array', items: providerClientView } } } }, async (request) =>
    core.providers.listClients(request.params.name),
  );

  app.patch<{ Params: { name: string; id: string }; Body: ClientSecretInput }>(
    '/v1/providers/:name/clients/:id',
    { schema: { params: clientParams, body: updateProviderClientBody, response: { 200: providerClientView } } },
    async (request) => {
      const client = await core.providers.updateClient(request.params.name, request.params.id, request.body);
      await core.audit.admin('provider.update', {
        detail: { provider: request.params.name, client: client.id, clientId: client.clientId },
      });
      return client;
    },
  );

  app.delete<{ Params: { name: string }; Querystring: { force?: string } }>(
    '/v1/providers/:name',
    { schema: { params: nameParams, querystring: forceQuery, response: { 200: providerDeleted } } },
    async (request) => {
      const force = request.query.force === 'true' || request.query.force === '1';
      // Each connection is deleted as DELETE /v1/connections does: its grant revoked, or a job that keeps trying.
      const result = await core.providers.remove(request.params.name, {
        force,
        deleteConnection: async (connection) => (await core.revocations.deleteConnection(fromRow(connection))).revokedAtProvider,
      });
      await core.audit.admin('provider.delete', {
        detail: { provider: request.params.name, force, removedConnections: result.removedConnections, revokedAtProvider: result.revokedAtProvider },
      });
      return { deleted: true, ...result };
    },
  );
}
