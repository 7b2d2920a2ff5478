import type { Command } from 'commander';
import type { ProposalApproval, ProposalCreate, ProposalStatus, ProposalView } from '../../sdk/index.js';
import { adminClient, durationArg, UsageError, type GlobalOptions } from '../context.js';
import { printFields, printJson, printTable, printText, say } from '../output.js';
import { agentClient } from './agent-client.js';

const STATUSES: ProposalStatus[] = ['pending', 'approved', 'denied'];

/** `--methods GET,POST` or repeated `--methods GET --methods POST`. */
function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

/** Whether this shell acts as an agent: LATCHKEY_AGENT_KEY set means list and show read the agent's own proposals. */
function asAgent(): boolean {
  return (process.env.LATCHKEY_AGENT_KEY ?? '') !== '';
}

function target(p: ProposalView): string {
  return p.request.connection ?? `provider ${p.request.provider ?? '?'}`;
}

function asked(p: ProposalView): string {
  const r = p.request;
  if (r.capabilities !== undefined) return `capabilities ${r.capabilities.join(',')}`;
  const parts = [r.methods === undefined ? 'any method' : r.methods.join(','), r.paths === undefined ? 'any path' : r.paths.join(' ')];
  return parts.join(' ');
}

function show(p: ProposalView): void {
  printFields([
    ['id', p.id],
    ['status', p.status],
    ['agent', `${p.agent.name} (${p.agent.id})`],
    ['target', target(p)],
    ['asks for', asked(p)],
    ['lease', p.request.lease === undefined ? 'no' : `maxTtl ${p.request.lease.maxTtl ?? 'default'}${p.request.lease.rotate === true ? ', rotate' : ''}`],
    ['created at', p.createdAt],
    ['decided at', p.decidedAt],
    ['decided by', p.decidedBy?.name ?? null],
    ['decision', p.decisionReason],
  ]);
  // The agent's words, as text with its lines: untrusted, every other control character escaped.
  printText(`reason\n${p.reason}`);
  if (p.rule !== null) printText(`approved rule\n${JSON.stringify({ rule: p.rule, lease: p.lease }, null, 2)}`);
}

function statusOf(value: string | undefined): ProposalStatus | undefined {
  if (value === undefined) return undefined;
  if (!STATUSES.includes(value as ProposalStatus)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
  return value as ProposalStatus;
}

interface ApproveOptions {
  connections?: string[];
  methods?: string[];
  paths?: string[];
  capabilities?: string[];
  leaseTtl?: string;
  leaseRotate?: boolean;
  lease?: boolean;
}

interface CreateOptions {
  connection?: string;
  provider?: string;
  methods?: string[];
  paths?: string[];
  capabilities?: string[];
  leaseTtl?: string;
  leaseRotate?: boolean;
  reason: string;
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const proposals = program.command('proposals').description("agents' access proposals: list, show, approve, deny (and create, as an agent)");

  proposals
    .command('list', { isDefault: true })
    .description('list proposals (as an agent, with LATCHKEY_AGENT_KEY: its own)')
    .option('--status <status>', 'pending, approved or denied')
    .action(async (o: { status?: string }) => {
      const status = statusOf(o.status);
      const query = status === undefined ? {} : { status };
      const found = asAgent() ? await agentClient(globals()).proposals.list(query) : await adminClient(globals()).proposals.list(query);
      if (globals().json) return printJson(found);
      printTable(
        ['id', 'status', 'agent', 'target', 'asks for', 'created'],
        found.map((p) => [p.id, p.status, p.agent.name, target(p), asked(p), p.createdAt]),
      );
    });

  proposals
    .command('show <id>')
    .description('show a proposal (as an agent, with LATCHKEY_AGENT_KEY: one of its own)')
    .action(async (id: string) => {
      const p = asAgent() ? await agentClient(globals()).proposals.get(id) : await adminClient(globals()).proposals.get(id);
      if (globals().json) return printJson(p);
      show(p);
    });

  proposals
    .command('approve <id>')
    .description("approve: append the asked rule to the agent's policy, optionally narrowed (never wider than asked)")
    .option('--connections <names>', "for a provider proposal: which of the provider's connections (comma-separated or repeated)", list)
    .option('--methods <methods>', 'only these methods (comma-separated or repeated)', list)
    .option('--paths <paths>', 'only these paths, each under a path asked for (comma-separated or repeated)', list)
    .option('--capabilities <names>', 'only these capabilities (comma-separated or repeated)', list)
    .option('--lease-ttl <duration>', 'grant leases up to this long (no longer than asked)', durationArg)
    .option('--lease-rotate', 'grant rotate=true on leases (only if asked)')
    .option('--no-lease', 'grant the rule without the lease asked for')
    .action(async (id: string, o: ApproveOptions) => {
      const rule: NonNullable<ProposalApproval['rule']> = {};
      if (o.connections !== undefined) rule.connections = o.connections;
      if (o.methods !== undefined) rule.methods = o.methods.map((m) => m.toUpperCase());
      if (o.paths !== undefined) rule.paths = o.paths;
      if (o.capabilities !== undefined) rule.capabilities = o.capabilities;
      const body: ProposalApproval = Object.keys(rule).length === 0 ? {} : { rule };
      if (o.lease === false) {
        if (o.leaseTtl !== undefined || o.leaseRotate === true) throw new UsageError('--no-lease cannot go with --lease-ttl or --lease-rotate');
        body.lease = false;
      } else if (o.leaseTtl !== undefined || o.leaseRotate === true) {
        body.lease = { ...(o.leaseTtl === undefined ? {} : { maxTtl: o.leaseTtl }), ...(o.leaseRotate === true ? { rotate: true } : {}) };
      }
      const p = await adminClient(globals()).proposals.approve(id, body);
      if (globals().json) return printJson(p);
      say`proposal ${p.id} approved: agent ${p.agent.name} may now ${JSON.stringify(p.rule)}\n`;
    });

  proposals
    .command('deny <id>')
    .description('deny a proposal; the agent sees the reason')
    .option('--reason <text>', 'why (shown to the agent)')
    .action(async (id: string, o: { reason?: string }) => {
      const p = await adminClient(globals()).proposals.deny(id, o.reason === undefined ? {} : { reason: o.reason });
      if (globals().json) return printJson(p);
      say`proposal ${p.id} denied\n`;
    });

  proposals
    .command('create')
    .description('as an agent (LATCHKEY_AGENT_KEY): ask an operator for access')
    .option('--connection <name>', 'the connection to use')
    .option('--provider <name>', "or: the provider whose connections to use")
    .option('--methods <methods>', 'methods (comma-separated or repeated; default any)', list)
    .option('--paths <paths>', 'path globs such as /repos/** (comma-separated or repeated; default any)', list)
    .option('--capabilities <names>', 'or: capabilities of the provider (comma-separated or repeated)', list)
    .option('--lease-ttl <duration>', 'also ask to lease raw tokens up to this long', durationArg)
    .option('--lease-rotate', 'also ask to end leases with rotate=true')
    .requiredOption('--reason <text>', 'why the access is needed (the operator reads it)')
    .action(async (o: CreateOptions) => {
      if ((o.connection === undefined) === (o.provider === undefined)) throw new UsageError('give exactly one of --connection or --provider');
      const body: ProposalCreate = { reason: o.reason };
      if (o.connection !== undefined) body.connection = o.connection;
      if (o.provider !== undefined) body.provider = o.provider;
      if (o.methods !== undefined) body.methods = o.methods.map((m) => m.toUpperCase());
      if (o.paths !== undefined) body.paths = o.paths;
      if (o.capabilities !== undefined) body.capabilities = o.capabilities;
      if (o.leaseTtl !== undefined || o.leaseRotate === true) {
        body.lease = { ...(o.leaseTtl === undefined ? {} : { maxTtl: o.leaseTtl }), ...(o.leaseRotate === true ? { rotate: true } : {}) };
      }
      const p = await agentClient(globals()).proposals.create(body);
      if (globals().json) return printJson(p);
      say`proposal ${p.id} is ${p.status}; check it with \`latchkey proposals show ${p.id}\`\n`;
    });
}
