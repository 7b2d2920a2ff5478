import type { FastifyInstance } from 'fastify';
import { connectionTokenView, connectionView, idParams } from '../../api/index.js';
import type { Latchkey } from '../../latchkey.js';
import { noStore } from '../no-store.js';

/** The operator's own token read and forced refresh. Agents use the proxy or a lease instead. */
export async function tokenRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.get<{ Params: { id: string } }>('/v1/connections/:id/token', { schema: { params: idParams, response: { 200: connectionTokenView } } }, async (request, reply) => {
    const connection = await core.connections.get(request.params.id);
    const grant = await core.tokens.getValidToken(connection);
    await core.audit.admin('connection.token_read', { connection: connection.name });
    noStore(reply);
    return { accessToken: grant.accessToken, tokenType: grant.tokenType, scopes: grant.scopes, expiresAt: grant.expiresAt };
  });

  app.post<{ Params: { id: string } }>('/v1/connections/:id/refresh', { schema: { params: idParams, response: { 200: connectionView } } }, async (request) => {
    const connection = await core.connections.get(request.params.id);
    await core.tokens.forceRefresh(connection);
    await core.audit.admin('connection.refresh', { connection: connection.name });
    const [view] = await core.connections.present([await core.connections.get(connection.id)]);
    return view;
  });
}
