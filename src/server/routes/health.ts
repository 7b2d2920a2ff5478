import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { errorResponse, healthResponse } from '../../api/index.js';
import type { Latchkey } from '../../latchkey.js';

export async function healthRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.get('/healthz', { schema: { response: { 200: healthResponse } } }, async () => ({ status: 'ok' }));
  // Ready once the store answers: it was opened and migrated before the server was built.
  app.get('/readyz', { schema: { response: { 200: healthResponse, 503: errorResponse } } }, async (_request, reply) => {
    try {
      await sql`select 1`.execute(core.store.db.kysely);
      return { status: 'ready', database: core.store.db.dialect };
    } catch {
      return reply.code(503).send({ error: 'internal_error', message: 'the database does not answer' });
    }
  });
}
