import type { FastifyInstance } from 'fastify';
import {
  connectionDeleted,
  connectionListQuery,
  connectionView,
  idParams,
  importConnectionBody,
  pageOf,
  revocationListQuery,
  revocationView,
} from '../../api/index.js';
import { InvalidRequest } from '../../errors.js';
import { parseDuration } from '../../duration.js';
import type { Latchkey } from '../../latchkey.js';
import { importConnection, type ImportInput } from '../../tokens/index.js';
import { listPage, type PageQuery } from '../paging.js';

interface ListQuery extends PageQuery {
  provider?: string;
  environment?: string;
  status?: string;
  subject?: string;
  expiringWithin?: string;
}

export async function connectionRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.post<{ Body: ImportInput }>(
    '/v1/connections/import',
    { schema: { body: importConnectionBody, response: { 201: connectionView } } },
    async (request, reply) => {
      const connection = await importConnection(core, request.body);
      request.log.info({ connection: connection.name }, 'connection imported');
      const [view] = await core.connections.present([connection]);
      await core.audit.admin('connection.create', {
        connection: connection.name,
        detail: { grantType: 'imported', clientId: view?.clientId ?? null },
      });
      return reply.code(201).send(view);
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/v1/connections',
    { schema: { querystring: connectionListQuery, response: { 200: pageOf(connectionView) } } },
    async (request, reply) => {
      const { expiringWithin, limit: _limit, cursor: _cursor, ...rest } = request.query;
      let seconds: number | undefined;
      if (expiringWithin !== undefined) {
        seconds = parseDuration(/^\d+$/.test(expiringWithin.trim()) ? Number(expiringWithin) : expiringWithin);
        if (seconds === undefined) throw new InvalidRequest('expiringWithin must be seconds or a duration like 1h');
      }
      const filter = { ...rest, ...(seconds === undefined ? {} : { expiringWithin: seconds }) };
      return listPage(
        request,
        reply,
        { list: 'connections', keyLength: 1 },
        (page) => core.connections.list(filter, page),
        (c) => [c.name],
        (rows) => core.connections.present(rows),
      );
    },
  );

  app.get<{ Params: { id: string } }>('/v1/connections/:id', { schema: { params: idParams, response: { 200: connectionView } } }, async (request) => {
    const [view] = await core.connections.present([await core.connections.get(request.params.id)]);
    return view;
  });

  app.delete<{ Params: { id: string } }>('/v1/connections/:id', { schema: { params: idParams, response: { 200: connectionDeleted } } }, async (request) => {
    const connection = await core.connections.get(request.params.id);
    // The token to revoke goes into a durable job with the delete; a provider failure is retried, and reported.
    const { revokedAtProvider, revocation } = await core.revocations.deleteConnection(connection);
    request.log.info({ connection: connection.name, revokedAtProvider }, 'connection deleted');
    await core.audit.admin('connection.revoke', {
      connection: connection.name,
      detail: { revokedAtProvider, ...(revocation === null ? {} : { revocation: revocation.id }) },
    });
    const provider = await core.providers.getById(connection.providerId).catch(() => undefined);
    await core.events.emit('connection.revoked', {
      id: connection.id,
      name: connection.name,
      ...(provider === undefined ? {} : { provider: provider.name }),
      status: 'revoked',
      revokedAtProvider,
    });
    return {
      deleted: true,
      revokedAtProvider,
      ...(revocation === null || revokedAtProvider ? {} : { revocation: { id: revocation.id, status: revocation.status, attempts: revocation.attempts, nextAttemptAt: revocation.nextAttemptAt, lastError: revocation.lastError } }),
    };
  });

  app.get<{ Querystring: { status?: string } & PageQuery }>(
    '/v1/revocations',
    { schema: { querystring: revocationListQuery, response: { 200: pageOf(revocationView) } } },
    async (request, reply) => {
      const { status } = request.query;
      return listPage(
        request,
        reply,
        { list: 'revocations', keyLength: 2 },
        (page) => core.revocations.list(status === undefined ? {} : { status }, page),
        (r) => [r.createdAt, r.id],
        (rows) => rows,
      );
    },
  );
}
