import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  authorizationStartView,
  clientCredentialsBody,
  connectBody,
  connectionView,
  deviceBody,
  deviceStartView,
  providerParams,
} from '../../api/index.js';
import type { Latchkey } from '../../latchkey.js';
import type { AuthorizationInput, ClientCredentialsInput, ConnectInput } from '../../oauth/index.js';

type Params = { provider: string };

/** Every field is optional, so `curl -X POST .../v1/connect/github` without a body is fine. */
async function emptyBodyAsObject(request: FastifyRequest): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}

/** The operator started a consent flow; the connection is `pending` until the provider answers. */
async function auditStart(core: Latchkey, connectionId: string, provider: string, grantType: string): Promise<void> {
  const connection = await core.connections.get(connectionId);
  await core.audit.admin('connection.connect', { connection: connection.name, detail: { provider, grantType } });
}

/** Admin routes that start a connection (api.md, "Connections"). */
export async function connectRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.post<{ Params: Params; Body: AuthorizationInput }>(
    '/v1/connect/:provider',
    { schema: { params: providerParams, body: connectBody, response: { 201: authorizationStartView } }, preValidation: emptyBodyAsObject },
    async (request, reply) => {
      const started = await core.oauth.startAuthorization(request.params.provider, request.body);
      await auditStart(core, started.connectionId, request.params.provider, 'authorization_code');
      return reply.code(201).header('cache-control', 'no-store').send(started);
    },
  );

  app.post<{ Params: Params; Body: ConnectInput }>(
    '/v1/connect/:provider/device',
    { schema: { params: providerParams, body: deviceBody, response: { 201: deviceStartView } }, preValidation: emptyBodyAsObject },
    async (request, reply) => {
      const started = await core.oauth.startDeviceAuthorization(request.params.provider, request.body);
      await auditStart(core, started.connectionId, request.params.provider, 'device_code');
      return reply.code(201).header('cache-control', 'no-store').send(started);
    },
  );

  app.post<{ Params: Params; Body: ClientCredentialsInput }>(
    '/v1/connect/:provider/client-credentials',
    { schema: { params: providerParams, body: clientCredentialsBody, response: { 201: connectionView } }, preValidation: emptyBodyAsObject },
    async (request, reply) => {
      const connection = await core.oauth.connectClientCredentials(request.params.provider, request.body);
      await core.audit.admin('connection.create', {
        connection: connection.name,
        detail: { provider: request.params.provider, grantType: 'client_credentials' },
      });
      const [view] = await core.connections.present([connection]);
      return reply.code(201).send(view);
    },
  );
}
