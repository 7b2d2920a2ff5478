import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthenticatedAgent } from '../../agents/index.js';
import type { ApprovalInput, ProposalInput } from '../../agents/index.js';
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
import type { Actor } from '../../audit/index.js';
import type { Latchkey } from '../../latchkey.js';
import { actorOf, authenticateAdminOrAgent, authenticateAgent, principalOf } from '../auth.js';
import { securedBy } from '../openapi.js';
import { listPage, type PageQuery } from '../paging.js';

type Status = (typeof PROPOSAL_STATUSES)[number];
interface ListQuery extends PageQuery {
  status?: Status;
}

const agents = new WeakMap<FastifyRequest, AuthenticatedAgent>();

/** Who decided: the acting principal as audit records it (the operator by name, or the admin token). */
function deciderOf(request: FastifyRequest): Actor {
  return actorOf(principalOf(request));
}

/** `POST /v1/proposals` for agents; list and read for agents (their own) and the operator (all). */
export async function proposalRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  await app.register(async (api) => {
    api.addHook('onRoute', securedBy(['agentKey']));
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
    either.addHook('onRoute', securedBy(['agentKey', 'adminToken', 'operatorKey', 'session']));
    either.addHook('onRequest', async (request) => {
      // authenticateAdminOrAgent refuses a cross-site cookie request and checks the route's role for a principal.
      const by = await authenticateAdminOrAgent(core, request);
      if (!('kind' in by)) agents.set(request, by);
    });
    either.get<{ Querystring: ListQuery }>(
      '/v1/proposals',
      { config: { role: 'viewer' }, schema: { querystring: proposalListQuery, response: { 200: proposalList } } },
      async (request, reply) => {
        const agentId = agents.get(request)?.id;
        const { status } = request.query;
        return listPage(
          request,
          reply,
          { list: 'proposals', keyLength: 2 },
          (page) => core.proposals.list({ ...(agentId === undefined ? {} : { agentId }), ...(status === undefined ? {} : { status }) }, page),
          (p) => [p.createdAt, p.id],
          (rows) => rows,
        );
      },
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
