import { createHash } from 'node:crypto';
import { isForwardedMethod } from '../api/index.js';
import type { Actor, AuditLog } from '../audit/index.js';
import type { Clock } from '../clock.js';
import type { ConnectionRegistry } from '../connections/index.js';
import { parseDuration } from '../duration.js';
import { Conflict, InvalidRequest, NotFound } from '../errors.js';
import type { EmitEvent, ProposalEventData } from '../events/index.js';
import { newId } from '../ids.js';
import type { Provider, ProviderRegistry } from '../providers/index.js';
import { isUniqueViolation, type Json, type ProposalRow, type ProposalStatus, type Store } from '../store/index.js';
import { agentActorOf } from './actor.js';
import { pathGlob } from './globs.js';
import { parsePolicy, type LeasePolicy, type PolicyRule } from './policy.js';
import type { AuthenticatedAgent } from './registry.js';

/** How many undecided proposals one agent may have at a time (docs/agents.md, "Asking for access"). */
export const MAX_PENDING_PROPOSALS = 20;
/** Longest reason an agent may give. */
export const REASON_MAX = 1000;
/** Longest reason an operator may give for a denial. */
export const DENY_REASON_MAX = 1000;

/** Where an agent asks for access: named in every policy refusal (`proposalsUrl`). */
export function proposalsUrlOf(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/proposals`;
}

/** What an agent may ask to lease: the same settings as `policy.lease`, maxTtl in seconds. */
export interface LeaseAsk {
  maxTtl?: number;
  rotate?: boolean;
}

/** The rule an agent asks for: one connection (or a provider's connections) and what it wants to do there. */
export interface ProposalRequest {
  connection?: string;
  provider?: string;
  methods?: string[];
  paths?: string[];
  capabilities?: string[];
  lease?: LeaseAsk;
}

/** What an approval appended to the agent's policy. */
export interface ProposalGrant {
  rule: PolicyRule;
  lease: LeaseAsk | null;
}

export interface ProposalView {
  id: string;
  agent: { id: string; name: string };
  status: ProposalStatus;
  request: ProposalRequest;
  reason: string;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: { type: string; id: string | null; name: string | null } | null;
  /** The rule appended to the policy (approved proposals only). */
  rule: PolicyRule | null;
  /** The lease settings granted with it, if any (approved proposals only). */
  lease: LeaseAsk | null;
  /** The operator's reason for a denial, if given. */
  decisionReason: string | null;
}

export interface ProposalInput {
  connection?: string;
  provider?: string;
  methods?: string[];
  paths?: string[];
  capabilities?: string[];
  lease?: { maxTtl?: string | number; rotate?: boolean };
  reason: string;
}

export interface ApprovalInput {
  rule?: { connections?: string[]; methods?: string[]; paths?: string[]; capabilities?: string[] };
  /** Narrowed lease settings, or false to grant the rule without the lease asked for. */
  lease?: { maxTtl?: string | number; rotate?: boolean } | false;
}

export interface ProposalDeps {
  store: Store;
  clock: Clock;
  connections: ConnectionRegistry;
  providers: ProviderRegistry;
  audit: AuditLog;
  emit: EmitEvent;
  /** Forgets cached agent keys, so an approved rule holds from the agent's next request. */
  policyChanged: () => void;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function canonicalMethods(methods: string[], where: string): string[] {
  const out = unique(methods.map((m) => m.toUpperCase()));
  for (const m of out) {
    if (m !== '*' && !isForwardedMethod(m)) throw new InvalidRequest(`${where}: "${m}" is not a method Latchkey forwards`);
  }
  return out;
}

function canonicalPaths(paths: string[], where: string): string[] {
  const out = unique(paths);
  if (out.some((p) => !p.startsWith('/'))) throw new InvalidRequest(`${where}: paths must start with "/"`);
  // Requests are matched after normalisation, so a dot segment could only confuse whoever reads the rule.
  if (out.some((p) => p.split(/[/?]/).some((s) => s === '.' || s === '..'))) throw new InvalidRequest(`${where}: paths may not contain "." or ".." segments`);
  return out;
}

function leaseOf(input: { maxTtl?: string | number; rotate?: boolean }, where: string): LeaseAsk {
  const out: LeaseAsk = {};
  if (input.maxTtl !== undefined) {
    const seconds = parseDuration(input.maxTtl);
    if (seconds === undefined || seconds <= 0) throw new InvalidRequest(`${where}.maxTtl must be a duration such as "15m"`);
    out.maxTtl = seconds;
  }
  if (input.rotate === true) out.rotate = true;
  return out;
}

function hasCapabilities(provider: Provider, names: string[], where: string): void {
  for (const name of names) {
    if (!provider.capabilities.some((c) => c.name === name)) throw new InvalidRequest(`${where}: provider "${provider.name}" has no capability "${name}"`);
  }
}

/** Whether an approved path (maybe a glob) asks for no more than a requested one. Conservative: unsure means no. */
export function pathWithin(approved: string, requested: string): boolean {
  if (approved === requested) return true;
  if (requested.endsWith('/**')) {
    const base = requested.slice(0, -3);
    if (approved === base || approved.startsWith(`${base}/`)) return true;
  }
  // A literal path is within whatever glob matches it.
  return !approved.includes('*') && pathGlob(requested).test(approved);
}

function requestKey(request: ProposalRequest): string {
  const sorted = (v: string[] | undefined): string[] | null => (v === undefined ? null : [...v].sort());
  const canonical = [
    request.connection ?? null,
    request.provider ?? null,
    sorted(request.methods),
    sorted(request.paths),
    sorted(request.capabilities),
    request.lease === undefined ? null : [request.lease.maxTtl ?? null, request.lease.rotate ?? false],
  ];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

function view(row: ProposalRow): ProposalView {
  const grant = row.rule as unknown as ProposalGrant | null;
  return {
    id: row.id,
    agent: { id: row.agentId, name: row.agentName },
    status: row.status,
    request: row.request as unknown as ProposalRequest,
    reason: row.reason,
    createdAt: row.createdAt,
    decidedAt: row.decidedAt,
    decidedBy: row.decidedBy as ProposalView['decidedBy'],
    rule: grant?.rule ?? null,
    lease: grant?.lease ?? null,
    decisionReason: row.decisionReason,
  };
}

function eventData(p: ProposalView): ProposalEventData {
  return JSON.parse(JSON.stringify(p)) as ProposalEventData;
}

/** Adds a lease grant to the agent's lease settings, never narrowing what it had. */
function widenLease(current: LeasePolicy, grant: LeaseAsk): LeasePolicy {
  if (!current.allowed) return { allowed: true, ...grant };
  const out: LeasePolicy = { allowed: true };
  const maxTtl = current.maxTtl === undefined ? grant.maxTtl : grant.maxTtl === undefined ? current.maxTtl : Math.max(current.maxTtl, grant.maxTtl);
  if (maxTtl !== undefined) out.maxTtl = maxTtl;
  if (current.rotate === true || grant.rotate === true) out.rotate = true;
  return out;
}

function within(approved: string[], requested: string[] | undefined, field: string, fits: (a: string, r: string) => boolean): void {
  if (requested === undefined) return;
  for (const a of approved) {
    if (!requested.some((r) => fits(a, r))) throw new InvalidRequest(`rule.${field}: "${a}" is not within the request (${requested.join(', ')})`);
  }
}

/**
 * Access proposals: an agent refused by its policy asks for a rule; an
 * operator approves it (maybe narrowed) or denies it. Approval appends
 * exactly the approved rule to the agent's policy, in the same transaction
 * that decides the proposal.
 */
export function proposalService(deps: ProposalDeps) {
  const { store, clock } = deps;

  /** The request's connection as the agent may see it (another environment's do not exist for it). */
  async function visibleConnection(agent: { environment: string }, name: string) {
    const connection = await deps.connections.find(name);
    if (connection === undefined || connection.environment !== agent.environment) throw new NotFound(`connection "${name}" does not exist`);
    return connection;
  }

  async function providerOf(request: ProposalRequest, agent: { environment: string }): Promise<Provider> {
    if (request.connection !== undefined) {
      return deps.providers.getById((await visibleConnection(agent, request.connection)).providerId);
    }
    return deps.providers.get(request.provider as string);
  }

  async function create(agent: AuthenticatedAgent, input: ProposalInput): Promise<{ proposal: ProposalView; created: boolean }> {
    if ((input.connection === undefined) === (input.provider === undefined)) {
      throw new InvalidRequest('a proposal names exactly one of "connection" or "provider"');
    }
    if (input.capabilities !== undefined && (input.methods !== undefined || input.paths !== undefined)) {
      throw new InvalidRequest('a proposal asks either for "capabilities" or for "methods"/"paths", not both');
    }
    if (input.reason.trim() === '') throw new InvalidRequest('reason must say why the access is needed');
    const request: ProposalRequest = {};
    if (input.connection !== undefined) request.connection = input.connection;
    if (input.provider !== undefined) request.provider = input.provider;
    if (input.methods !== undefined) request.methods = canonicalMethods(input.methods, 'methods');
    if (input.paths !== undefined) request.paths = canonicalPaths(input.paths, 'paths');
    if (input.capabilities !== undefined) request.capabilities = unique(input.capabilities);
    if (input.lease !== undefined) request.lease = leaseOf(input.lease, 'lease');
    const provider = await providerOf(request, agent);
    if (request.capabilities !== undefined) hasCapabilities(provider, request.capabilities, 'capabilities');
    // The same validation as an agent's policy, so an approved request is always a valid rule.
    parsePolicy({ rules: [ruleOf(request, [request.connection ?? provider.name])] });

    const key = requestKey(request);
    const existing = await store.proposals.findPending(agent.id, key);
    if (existing !== undefined) return { proposal: view(existing), created: false };
    if ((await store.proposals.countPending(agent.id)) >= MAX_PENDING_PROPOSALS) {
      throw new Conflict(`agent "${agent.name}" already has ${MAX_PENDING_PROPOSALS} pending proposals; wait for an operator to decide them`);
    }
    const row: ProposalRow = {
      id: newId('prop'),
      agentId: agent.id,
      agentName: agent.name,
      status: 'pending',
      request: request as unknown as Json,
      requestKey: key,
      reason: input.reason,
      createdAt: clock.now().toISOString(),
      decidedAt: null,
      decidedBy: null,
      rule: null,
      decisionReason: null,
    };
    try {
      await store.proposals.insert(row);
    } catch (err) {
      // The same ask from two requests at once: the other one made it.
      if (!isUniqueViolation(err)) throw err;
      const raced = await store.proposals.findPending(agent.id, key);
      if (raced === undefined) throw err;
      return { proposal: view(raced), created: false };
    }
    const proposal = view(row);
    await deps.audit.record({
      actor: agentActorOf(agent),
      action: 'proposal.create',
      connection: request.connection ?? null,
      outcome: 'success',
      detail: { proposal: row.id, request: row.request },
    });
    await deps.emit('proposal.created', eventData(proposal));
    return { proposal, created: true };
  }

  function ruleOf(request: ProposalRequest, connections: string[]): PolicyRule {
    const rule: PolicyRule = { connections };
    if (request.methods !== undefined) rule.methods = request.methods;
    if (request.paths !== undefined) rule.paths = request.paths;
    if (request.capabilities !== undefined) rule.capabilities = request.capabilities;
    return rule;
  }

  async function load(id: string, agentId?: string): Promise<ProposalRow> {
    const row = await store.proposals.findById(id);
    // Another agent's proposal does not exist for this one.
    if (row === undefined || (agentId !== undefined && row.agentId !== agentId)) throw new NotFound(`proposal "${id}" does not exist`);
    return row;
  }

  /** The rule and lease an approval grants: the request, narrowed by the operator's input, never widened. */
  async function grantOf(row: ProposalRow, input: ApprovalInput): Promise<ProposalGrant> {
    const request = row.request as unknown as ProposalRequest;
    const agent = await store.agents.findById(row.agentId);
    if (agent === undefined) throw new NotFound(`agent "${row.agentName}" no longer exists`);
    const provider = await providerOf(request, agent);
    const narrowed = input.rule ?? {};

    let connections: string[];
    if (request.connection !== undefined) {
      if (narrowed.connections !== undefined && (narrowed.connections.length !== 1 || narrowed.connections[0] !== request.connection)) {
        throw new InvalidRequest(`rule.connections: the proposal asked for connection "${request.connection}" only`);
      }
      connections = [request.connection];
    } else {
      const ofProvider = (await deps.connections.list({ provider: provider.name, environment: agent.environment })).map((c) => c.name);
      connections = narrowed.connections === undefined ? ofProvider : unique(narrowed.connections);
      for (const c of connections) {
        if (!ofProvider.includes(c)) throw new InvalidRequest(`rule.connections: "${c}" is not a connection of provider "${provider.name}" in environment "${agent.environment}"`);
      }
      if (connections.length === 0) {
        throw new InvalidRequest(`provider "${provider.name}" has no connection in environment "${agent.environment}" yet: connect one, then approve`);
      }
    }

    const rule: PolicyRule = { connections };
    const asksCapabilities = request.capabilities !== undefined;
    const asksMethodsOrPaths = request.methods !== undefined || request.paths !== undefined;
    if (narrowed.capabilities !== undefined) {
      if (asksMethodsOrPaths) throw new InvalidRequest('rule.capabilities: the proposal asked for methods and paths, not capabilities');
      if (narrowed.methods !== undefined || narrowed.paths !== undefined) throw new InvalidRequest('a rule grants either capabilities or methods/paths, not both');
      const caps = unique(narrowed.capabilities);
      within(caps, request.capabilities, 'capabilities', (a, r) => a === r);
      hasCapabilities(provider, caps, 'rule.capabilities');
      rule.capabilities = caps;
    } else if (narrowed.methods !== undefined || narrowed.paths !== undefined) {
      if (asksCapabilities) throw new InvalidRequest('rule: the proposal asked for capabilities; narrow it with rule.capabilities');
      const methods = narrowed.methods === undefined ? request.methods : canonicalMethods(narrowed.methods, 'rule.methods');
      const paths = narrowed.paths === undefined ? request.paths : canonicalPaths(narrowed.paths, 'rule.paths');
      if (methods !== undefined) {
        within(methods, request.methods, 'methods', (a, r) => r === '*' || a === r);
        rule.methods = methods;
      }
      if (paths !== undefined) {
        within(paths, request.paths, 'paths', pathWithin);
        rule.paths = paths;
      }
    } else {
      Object.assign(rule, ruleOf(request, connections));
    }
    parsePolicy({ rules: [rule] });

    let lease: LeaseAsk | null = null;
    if (input.lease !== undefined && input.lease !== false) {
      if (request.lease === undefined) throw new InvalidRequest('lease: the proposal did not ask for leases');
      const asked = request.lease;
      lease = leaseOf(input.lease, 'lease');
      if (lease.maxTtl === undefined && asked.maxTtl !== undefined) lease.maxTtl = asked.maxTtl;
      if (asked.maxTtl !== undefined && (lease.maxTtl as number) > asked.maxTtl) {
        throw new InvalidRequest(`lease.maxTtl: ${lease.maxTtl} s is more than the ${asked.maxTtl} s asked for`);
      }
      if (lease.rotate === true && asked.rotate !== true) throw new InvalidRequest('lease.rotate: the proposal did not ask to rotate');
    } else if (input.lease === undefined && request.lease !== undefined) {
      lease = { ...request.lease };
    }
    return { rule, lease };
  }

  /**
   * Decides the proposal and appends the rule in one transaction: of two
   * approvals at once one wins and the other gets 409, and a failure leaves
   * both the proposal and the policy as they were.
   */
  async function approve(id: string, input: ApprovalInput, by: Actor): Promise<ProposalView> {
    const row = await load(id);
    if (row.status !== 'pending') throw new Conflict(`proposal "${id}" is already ${row.status}`);
    const grant = await grantOf(row, input);
    const decidedAt = clock.now().toISOString();
    await store.transaction(async (tx) => {
      const won = await tx.proposals.decide(id, {
        status: 'approved',
        decidedAt,
        decidedBy: { ...by },
        rule: grant as unknown as Json,
        decisionReason: null,
      });
      if (!won) throw new Conflict(`proposal "${id}" was decided meanwhile`);
      const agent = await tx.proposals.lockAgent(row.agentId);
      if (agent === undefined) throw new NotFound(`agent "${row.agentName}" no longer exists`);
      const policy = parsePolicy(agent.policy);
      policy.rules.push(grant.rule);
      if (grant.lease !== null) policy.lease = widenLease(policy.lease, grant.lease);
      await tx.agents.updatePolicy(agent.id, policy as unknown as Json, decidedAt);
    });
    deps.policyChanged();
    const decided = view({ ...row, status: 'approved', decidedAt, decidedBy: { ...by }, rule: grant as unknown as Json });
    await deps.emit('proposal.decided', eventData(decided));
    return decided;
  }

  async function deny(id: string, input: { reason?: string }, by: Actor): Promise<ProposalView> {
    const row = await load(id);
    if (row.status !== 'pending') throw new Conflict(`proposal "${id}" is already ${row.status}`);
    const decidedAt = clock.now().toISOString();
    const decisionReason = input.reason ?? null;
    const won = await store.proposals.decide(id, { status: 'denied', decidedAt, decidedBy: { ...by }, rule: null, decisionReason });
    if (!won) throw new Conflict(`proposal "${id}" was decided meanwhile`);
    const decided = view({ ...row, status: 'denied', decidedAt, decidedBy: { ...by }, decisionReason });
    await deps.emit('proposal.decided', eventData(decided));
    return decided;
  }

  async function list(filter: { agentId?: string; status?: ProposalStatus; limit: number; after?: { createdAt: string; id: string } }): Promise<ProposalView[]> {
    return (await store.proposals.list(filter)).map(view);
  }

  return {
    create,
    get: async (id: string, agentId?: string): Promise<ProposalView> => view(await load(id, agentId)),
    list,
    approve,
    deny,
  };
}

export type ProposalService = ReturnType<typeof proposalService>;
