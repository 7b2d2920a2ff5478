import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { enc } from '../../sdk/paths.js';
import { adminClient, durationArg, jsonReason, UsageError, type GlobalOptions } from '../context.js';
import { iteratePages } from '../../sdk/index.js';
import { printFields, printJson, printList, printTable, printText, say } from '../output.js';

interface AgentView {
  id: string;
  name: string;
  environment: string;
  policy: { rules: Array<Record<string, string[]>>; lease: { allowed: boolean; maxTtl?: number; rotate?: boolean } };
  createdAt: string;
  keys?: Array<{ id: string; createdAt: string }>;
}

/** Without maxTtl a token that never expires cannot be leased (409 lease_unbounded). */
function leaseSummary(lease: AgentView['policy']['lease']): string {
  if (!lease.allowed) return 'no';
  const length = lease.maxTtl === undefined ? 'expiring tokens only' : `up to ${lease.maxTtl}s`;
  return lease.rotate === true ? `${length}, may rotate` : length;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--allow github:GET,POST` → a rule for that connection (glob) and those methods. */
export function ruleFromAllow(spec: string): { connections: string[]; methods?: string[] } {
  const [connection, methods] = spec.split(':', 2);
  if (connection === undefined || connection === '') throw new UsageError(`--allow ${spec}: give CONNECTION[:METHODS]`);
  const list = methods?.split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
  return list === undefined || list.length === 0 ? { connections: [connection] } : { connections: [connection], methods: list };
}

interface CreateOptions {
  policy?: string;
  allow?: string[];
  leaseTtl?: string;
  leaseRotate?: boolean;
  env?: string;
}

/** The --policy file as a JSON object; anything else is a usage error here, before a request is made. */
function readPolicy(file: string): Record<string, unknown> {
  let policy: unknown;
  try {
    policy = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const reason = err instanceof SyntaxError ? `not JSON (${jsonReason(err)})` : ((err as NodeJS.ErrnoException).code ?? 'cannot be read');
    throw new UsageError(`--policy ${file}: ${reason}`);
  }
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw new UsageError(`--policy ${file}: must be a JSON object {"rules":[...],"lease":{...}}`);
  }
  return policy as Record<string, unknown>;
}

const agentPath = (name: string): string => `/v1/agents/${enc(name)}`;

export function agentsCommand(program: Command, globals: () => GlobalOptions): void {
  const agents = program.command('agents').description('manage agents, their keys and policies');

  agents
    .command('create <name>')
    .description('create an agent; its API key is printed once')
    .option('--policy <file>', 'policy JSON file {"rules":[...],"lease":{...}}')
    .option('--allow <conn[:methods]>', 'allow a connection (glob), optionally only some methods (repeatable)', collect)
    .option('--lease-ttl <duration>', 'allow leases up to this long (e.g. 15m)', durationArg)
    .option('--lease-rotate', 'allow leases, and ending them with rotate=true (revokes the token, refreshes the connection)')
    .option('--env <environment>', 'environment whose connections the agent sees (default "default")')
    .action(async (name: string, o: CreateOptions) => {
      if (o.policy !== undefined && o.allow !== undefined) throw new UsageError('give either --policy or --allow, not both');
      let policy: Record<string, unknown>;
      if (o.policy !== undefined) policy = readPolicy(o.policy);
      else policy = { rules: (o.allow ?? []).map(ruleFromAllow) };
      if (o.leaseTtl !== undefined || o.leaseRotate === true) {
        policy.lease = { allowed: true, ...(o.leaseTtl === undefined ? {} : { maxTtl: o.leaseTtl }), ...(o.leaseRotate === true ? { rotate: true } : {}) };
      }
      const created = await adminClient(globals()).http.json<AgentView & { apiKey: string; keyId: string }>('POST', '/v1/agents', {
        body: { name, ...(o.env === undefined ? {} : { environment: o.env }), policy },
      });
      if (globals().json) return printJson(created);
      say`agent ${created.name} (${created.id}) created\n\nAPI key (shown once):\n  ${created.apiKey}\n`;
    });

  agents
    .command('list')
    .description('list agents')
    .action(async () => {
      const client = adminClient(globals());
      const list = iteratePages<AgentView>(client.http, '/v1/agents');
      await printList(globals().json === true, list, ['name', 'id', 'env', 'rules', 'leases'], (a) => [
        a.name,
        a.id,
        a.environment,
        a.policy.rules.length,
        leaseSummary(a.policy.lease),
      ]);
    });

  agents
    .command('show <name>')
    .description('show an agent, its policy and key ids')
    .action(async (name: string) => {
      const a = await adminClient(globals()).http.json<AgentView>('GET', agentPath(name));
      if (globals().json) return printJson(a);
      printFields([
        ['id', a.id],
        ['name', a.name],
        ['environment', a.environment],
        ['keys', (a.keys ?? []).map((k) => k.id)],
        ['lease', leaseSummary(a.policy.lease)],
        ['created at', a.createdAt],
      ]);
      printText(`policy\n${JSON.stringify(a.policy.rules, null, 2)}`);
    });

  agents
    .command('update <name>')
    .description("replace an agent's policy (its keys keep working)")
    .option('--policy <file>', 'policy JSON file {"rules":[...],"lease":{...}}')
    .option('--allow <conn[:methods]>', 'allow a connection (glob), optionally only some methods (repeatable)', collect)
    .option('--lease-ttl <duration>', 'allow leases up to this long (e.g. 15m)', durationArg)
    .option('--lease-rotate', 'allow leases, and ending them with rotate=true')
    .action(async (name: string, o: Omit<CreateOptions, 'env'>) => {
      if (o.policy !== undefined && o.allow !== undefined) throw new UsageError('give either --policy or --allow, not both');
      if (o.policy === undefined && o.allow === undefined) throw new UsageError('give the new policy: --policy FILE or --allow CONN[:METHODS]...');
      const policy = o.policy !== undefined ? readPolicy(o.policy) : { rules: (o.allow ?? []).map(ruleFromAllow) };
      if (o.leaseTtl !== undefined || o.leaseRotate === true) {
        policy.lease = { allowed: true, ...(o.leaseTtl === undefined ? {} : { maxTtl: o.leaseTtl }), ...(o.leaseRotate === true ? { rotate: true } : {}) };
      }
      const updated = await adminClient(globals()).http.json<AgentView>('PATCH', agentPath(name), { body: { policy } });
      if (globals().json) return printJson(updated);
      say`agent ${updated.name} updated: ${updated.policy.rules.length} rule(s), leases ${leaseSummary(updated.policy.lease)}\n`;
    });

  agents
    .command('keys <name>')
    .description("list an agent's key ids (never the keys)")
    .action(async (name: string) => {
      const a = await adminClient(globals()).http.json<AgentView>('GET', agentPath(name));
      const keys = a.keys ?? [];
      if (globals().json) return printJson(keys);
      printTable(['id', 'created at'], keys.map((k) => [k.id, k.createdAt]));
    });

  agents
    .command('add-key <name>')
    .description('issue one more API key for an agent (printed once); its other keys keep working')
    .action(async (name: string) => {
      const key = await adminClient(globals()).http.json<{ id: string; apiKey: string }>('POST', `${agentPath(name)}/keys`);
      if (globals().json) return printJson(key);
      say`new key ${key.id} for ${name}\n\nAPI key (shown once):\n  ${key.apiKey}\n`;
    });

  agents
    .command('remove-key <name> <keyId>')
    .description('delete one key of an agent; it stops working at once')
    .action(async (name: string, keyId: string) => {
      const result = await adminClient(globals()).http.json('DELETE', `${agentPath(name)}/keys/${enc(keyId, 'key id')}`);
      if (globals().json) return printJson(result);
      say`key ${keyId} of ${name} removed\n`;
    });

  agents
    .command('mcp-clients <name>')
    .description('list the remote MCP clients an operator let act as the agent (never their tokens); its keys do not end them')
    .action(async (name: string) => {
      const list = await adminClient(globals()).agents.mcpClients(name);
      if (globals().json) return printJson(list);
      printTable(
        ['id', 'client', 'name', 'consented at', 'last token'],
        list.map((c) => [c.id, c.clientId, c.clientName, c.consentedAt, c.lastTokenIssuedAt]),
      );
    });

  agents
    .command('revoke-mcp-client <name> <id>')
    .description('end one MCP client of an agent (id from `agents mcp-clients`): its access and refresh tokens stop working at once')
    .action(async (name: string, id: string) => {
      const result = await adminClient(globals()).agents.revokeMcpClient(name, id);
      if (globals().json) return printJson(result);
      say`MCP client ${id} of ${name} revoked\n`;
    });

  agents
    .command('remove <name>')
    .description('delete an agent; its keys stop working at once')
    .action(async (name: string) => {
      const result = await adminClient(globals()).http.json('DELETE', agentPath(name));
      if (globals().json) return printJson(result);
      say`agent ${name} removed\n`;
    });

  agents
    .command('rotate-key <name>')
    .description('issue a new API key and delete the old ones (--keep-old to keep them)')
    .option('--keep-old', 'keep the existing keys working')
    .action(async (name: string, o: { keepOld?: boolean }) => {
      const client = adminClient(globals());
      const path = agentPath(name);
      const before = await client.http.json<AgentView>('GET', path);
      const key = await client.http.json<{ id: string; apiKey: string }>('POST', `${path}/keys`);
      if (!o.keepOld) {
        for (const old of before.keys ?? []) await client.http.json('DELETE', `${path}/keys/${enc(old.id, 'key id')}`);
      }
      if (globals().json) return printJson(key);
      say`new key ${key.id} for ${name}${o.keepOld ? '' : '; old keys deleted'}\n\nAPI key (shown once):\n  ${key.apiKey}\n`;
    });
}
