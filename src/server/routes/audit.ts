import type { FastifyInstance } from 'fastify';
import { auditEventView, auditListQuery, auditPruneBody, auditPruned, auditVerified, pageOf } from '../../api/index.js';
import { auditPosition, type AuditPosition, type AuditQuery } from '../../audit/index.js';
import { InvalidRequest } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { answerPage, readPage, takePage, type PageQuery } from '../paging.js';

/** Admin routes for the audit log (api.md, "Audit"). */
export async function auditRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.get<{ Querystring: Omit<AuditQuery, 'limit' | 'before'> & PageQuery }>(
    '/v1/audit',
    { schema: { querystring: auditListQuery, response: { 200: pageOf(auditEventView) } } },
    async (request, reply) => {
      const { limit: _limit, cursor: _cursor, ...filter } = request.query;
      // `limit` predates pagination: only `cursor` asks for the page object here.
      const page = readPage('audit', request.query, 3, 'cursor');
      let before: AuditPosition | undefined;
      if (page.after !== undefined) {
        const [at, chainId, seq] = page.after as [string, string, string];
        if (!/^\d{1,15}$/.test(seq)) throw new InvalidRequest('cursor is not valid: pass the nextCursor of the previous page of the same list unchanged');
        before = { at, chainId, seq: Number(seq) };
      }
      const events = await core.audit.list({ ...filter, limit: page.fetch.limit, ...(before === undefined ? {} : { before }) });
      const { rows, nextCursor } = takePage('audit', page, events, (e) => {
        const p = auditPosition(e);
        return [p.at, p.chainId, String(p.seq)];
      });
      return answerPage(request, reply, page, rows, nextCursor);
    },
  );

  app.post<{ Body: { before: string } }>(
    '/v1/audit/prune',
    {
      schema: {
        body: auditPruneBody,
        response: { 200: auditPruned },
      },
    },
    async (request) => core.audit.prune(request.body.before),
  );

  app.get('/v1/audit/verify', { schema: { response: { 200: auditVerified } } }, async () => {
    // Events still waiting in the group-commit queue are part of what is verified.
    await core.audit.flush();
    return core.audit.verify();
  });
}
