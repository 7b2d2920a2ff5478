import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthenticatedAgent } from '../../agents/index.js';
import type { ApprovalInput, ProposalInput, ProposalView } from '../../agents/index.js';
import {
  approveProposalBody,
  createProposalBody,
  denyProposalBody,
  proposalList,
  proposalListQuery,
  proposalParams,
  proposalView,
  type PROPOSAL_STATUSES,
} from '../../api/index.js';
import { ADMIN_ACTOR, type Actor } from '../../audit/index.js';
import { InvalidRequest } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { authenticateAdminOrAgent, authenticateAgent } from '../auth.js';

type Status = (typeof PROPOSAL_STATUSES)[number];
interface ListQuery {
  status?: Status;
  limit?: string;
  cursor?: string;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

const agents = new WeakMap<FastifyRequest, AuthenticatedAgent>();

/** Who decided: the acting principal as audit records it. */
function deciderOf(_request: FastifyRequest): Actor {
  return ADMIN_ACTOR;
}

function encodeCursor(p: ProposalView): string {
  return Buffer.from(JSON.stringify([p.createdAt, p.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } | undefined {
  if (cursor === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // falls through to the refusal
  }
  throw new InvalidRequest('cursor is not one this server handed out');
}

/** One page, with the pagination contract's headers; the object form only when the caller paged. */
async function listPage(core: Latchkey, request: FastifyRequest<{ Querystring: ListQuery }>, reply: FastifyReply, agentId?: string) {
  const { status, limit: limitText, cursor } = request.query;
  const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new InvalidRequest(`limit must be 1 to ${MAX_LIMIT}`);
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const rows = await core.proposals.list({
    ...(agentId === undefined ? {} : { agentId }),
    ...(status === undefined ? {} : { status }),
    limit: limit + 1,
    ...(after === undefined ? {} : { after }),
  });
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor = rows.length > limit && last !== undefined ? encodeCursor(last) : null;
  if (nextCursor !== null) {
    const next = new URLSearchParams({ ...(status === undefined ? {} : { status }), limit: String(limit), cursor: nextCursor });
    reply.header('latchkey-next-cursor', nextCursor).header('link', `</v1/proposals?${next.toString()}>; rel="next"`);
  }
  return limitText === undefined && cursor === undefined ? items : { items, nextCursor };
}

/** `POST /v1/proposals` for agents; list and read for agents (their own) and the operator (all). */
export async function proposalRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  await app.register(async (api) => {
    api.addHook('onRequest', async (request) => {
      agents.set(request, await authenticateAgent(core, request.raw));
    });
    api.post<{ Body: ProposalInput }>(
      '/v1/proposals',
      { schema: { body: createProposalBody, response: { 200: proposalView, 201: proposalView } } },
      async (request, reply) => {
        const agent = agents.get(request) as AuthenticatedAgent;
        const { proposal, created } = await core.proposals.create(agent, request.body);
        // Asking again while the same request is pending answers the pending proposal (200).
        return reply.code(created ? 201 : 200).send(proposal);
      },
    );
  });

  await app.register(async (either) => {
    either.addHook('onRequest', async (request) => {
      const by = await authenticateAdminOrAgent(core, request);
      if (by !== 'admin') agents.set(request, by);
    });
    either.get<{ Querystring: ListQuery }>(
      '/v1/proposals',
      { config: { role: 'viewer' }, schema: { querystring: proposalListQuery, response: { 200: proposalList } } },
      async (request, reply) => listPage(core, request, reply, agents.get(request)?.id),
    );
    either.get<{ Params: { id: string } }>(
      '/v1/proposals/:id',
      { config: { role: 'viewer' }, schema: { params: proposalParams, response: { 200: proposalView } } },
      async (request) => core.proposals.get(request.params.id, agents.get(request)?.id),
    );
  });
}

/** Approve and deny: operator routes, registered in the admin scope (its auth, origin check and audit-first hook). */
export async function proposalDecisionRoutes(admin: FastifyInstance, core: Latchkey): Promise<void> {
  admin.post<{ Params: { id: string }; Body: ApprovalInput | undefined }>(
    '/v1/proposals/:id/approve',
    { config: { role: 'operator' }, schema: { params: proposalParams, body: approveProposalBody, response: { 200: proposalView } } },
    async (request) => {
      const proposal = await core.proposals.approve(request.params.id, request.body ?? {}, deciderOf(request));
      await core.audit.admin('proposal.approve', {
        connection: proposal.request.connection ?? null,
        detail: { proposal: proposal.id, agent: proposal.agent.name, agentId: proposal.agent.id, rule: { ...proposal.rule }, lease: proposal.lease === null ? null : { ...proposal.lease } },
      });
      return proposal;
    },
  );
  admin.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
    '/v1/proposals/:id/deny',
    { config: { role: 'operator' }, schema: { params: proposalParams, body: denyProposalBody, response: { 200: proposalView } } },
    async (request) => {
      const proposal = await core.proposals.deny(request.params.id, request.body ?? {}, deciderOf(request));
      await core.audit.admin('proposal.deny', {
        connection: proposal.request.connection ?? null,
        detail: { proposal: proposal.id, agent: proposal.agent.name, agentId: proposal.agent.id },
      });
      return proposal;
    },
  );
}
