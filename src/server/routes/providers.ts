import type { FastifyInstance } from 'fastify';
import { createProviderBody, forceQuery, nameParams, updateProviderBody } from '../../api/index.js';
import type { Latchkey } from '../../latchkey.js';
import { PRESETS, providerHealth, statusView, toPublicProvider, type Provider, type ProviderFault, type ProviderInput } from '../../providers/index.js';

export async function providerRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  const health = providerHealth(core);
  const view = (provider: Provider, fault: ProviderFault | undefined) => ({ ...toPublicProvider(provider), ...statusView(fault) });
  const viewOne = async (provider: Provider) => view(provider, await health.find(provider.id));

  app.get('/v1/presets', async () =>
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

  app.post<{ Body: ProviderInput }>('/v1/providers', { schema: { body: createProviderBody } }, async (request, reply) => {
    const provider = await core.providers.create(request.body);
    request.log.info({ provider: provider.name }, 'provider created');
    await core.audit.admin('provider.create', { detail: { provider: provider.name } });
    return reply.code(201).send(await viewOne(provider));
  });

  app.get('/v1/providers', async () => {
    const faults = await health.list();
    return (await core.providers.list()).map((p) => view(p, faults.get(p.id)));
  });

  app.get<{ Params: { name: string } }>('/v1/providers/:name', { schema: { params: nameParams } }, async (request) =>
    viewOne(await core.providers.get(request.params.name)),
  );

  app.patch<{ Params: { name: string }; Body: ProviderInput }>(
    '/v1/providers/:name',
    { schema: { params: nameParams, body: updateProviderBody } },
    async (request) => {
      const provider = await core.providers.update(request.params.name, request.body);
      await core.audit.admin('provider.update', { detail: { provider: provider.name } });
      return viewOne(provider);
    },
  );

  app.delete<{ Params: { name: string }; Querystring: { force?: string } }>(
    '/v1/providers/:name',
    { schema: { params: nameParams, querystring: forceQuery } },
    async (request) => {
      const force = request.query.force === 'true' || request.query.force === '1';
      const result = await core.providers.remove(request.params.name, { force });
      await core.audit.admin('provider.delete', { detail: { provider: request.params.name, force, removedConnections: result.removedConnections } });
      return { deleted: true, ...result };
    },
  );
}
