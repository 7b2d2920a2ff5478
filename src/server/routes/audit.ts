import type { FastifyInstance } from 'fastify';
import { lineString } from '../../api/index.js';
import type { AuditQuery } from '../../audit/index.js';
import type { Latchkey } from '../../latchkey.js';

const str = { ...lineString, maxLength: 200 } as const;
const auditQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { agent: str, connection: str, action: str, since: str, limit: { type: 'string', pattern: '^\\d{1,4}$' } },
} as const;

/** Admin routes for the audit log (api.md, "Audit"). */
export async function auditRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.get<{ Querystring: Omit<AuditQuery, 'limit'> & { limit?: string } }>(
    '/v1/audit',
    { schema: { querystring: auditQuery } },
    async (request) => {
      const { limit, ...rest } = request.query;
      return core.audit.list({ ...rest, ...(limit === undefined ? {} : { limit: Number(limit) }) });
    },
  );

  app.post<{ Body: { before: string } }>(
    '/v1/audit/prune',
    {
      schema: {
        body: { type: 'object', additionalProperties: false, required: ['before'], properties: { before: { type: 'string', minLength: 1, maxLength: 64 } } },
      },
    },
    async (request) => core.audit.prune(request.body.before),
  );

  app.get('/v1/audit/verify', async () => {
    // Events still waiting in the group-commit queue are part of what is verified.
    await core.audit.flush();
    return core.audit.verify();
  });
}
