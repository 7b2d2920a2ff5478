import type { FastifyInstance } from 'fastify';
import { auditEventView, auditListQuery, auditPruneBody, auditPruned, auditVerified, pageOf } from '../../api/index.js';
import { auditPosition, type AuditPosition, type AuditQuery } from '../../audit/index.js';
import type { Latchkey } from '../../latchkey.js';
import { listPage, refuseCursor, type PageQuery } from '../paging.js';

/** Admin routes for the audit log (api.md, "Audit"). */
export async function auditRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.get<{ Querystring: Omit<AuditQuery, 'limit' | 'before'> & PageQuery }>(
    '/v1/audit',
    { schema: { querystring: auditListQuery, response: { 200: pageOf(auditEventView) } } },
    async (request, reply) => {
      const { limit: _limit, cursor: _cursor, ...filter } = request.query;
      // `limit` predates pagination: only `cursor` asks for the page object here.
      return listPage(
        request,
        reply,
        { list: 'audit', keyLength: 3, wrapWhen: 'cursor' },
        (page) => core.audit.list({ ...filter, limit: page.limit, ...(page.after === undefined ? {} : { before: auditBefore(page.after) }) }),
        (e) => {
          const p = auditPosition(e);
          return [p.at, p.chainId, String(p.seq)];
        },
        (rows) => rows,
      );
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

/** The keyset of an audit cursor (at, chain, seq) as the log's `before` position; seq must be a number. */
function auditBefore(after: readonly string[]): AuditPosition {
  const [at, chainId, seq] = after as [string, string, string];
  if (!/^\d{1,15}$/.test(seq)) refuseCursor();
  return { at, chainId, seq: Number(seq) };
}
