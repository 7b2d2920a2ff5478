import type { Command } from 'commander';
import type { OperatorRole } from '../../sdk/index.js';
import { UsageError, adminClient, secretFromStdin, type GlobalOptions } from '../context.js';
import { printFields, printJson, printTable, say } from '../output.js';

const ROLES = ['admin', 'operator', 'viewer'];

function role(value: string | undefined): OperatorRole | undefined {
  if (value === undefined) return undefined;
  if (!ROLES.includes(value)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  return value as OperatorRole;
}

/**
 * `latchkey operators add|list|show|update|remove|sign-in-link|keys`: one API
 * call each (add without a password also makes a sign-in link).
 */
export function register(program: Command, globals: () => GlobalOptions): void {
  const operators = program.command('operators').description('people who run Latchkey: roles, console sign-in, operator API keys');

  operators
    .command('add <name>')
    .description('add an operator; without --password-stdin prints a one-time console sign-in link')
    .requiredOption('--role <role>', 'admin, operator or viewer')
    .option('--password-stdin', 'read a password (at least 12 characters) from standard input')
    .action(async (name: string, o: { role: string; passwordStdin?: boolean }) => {
      const client = adminClient(globals());
      const password = o.passwordStdin ? secretFromStdin('--password-stdin', 'line') : undefined;
      const created = await client.operators.create({ name, role: role(o.role) as OperatorRole, ...(password === undefined ? {} : { password }) });
      const link = password === undefined ? await client.operators.signInLink(name) : undefined;
      if (globals().json) return printJson(link === undefined ? created : { ...created, signInLink: link });
      say`operator ${created.name} added with the role ${created.role}\n`;
      if (link !== undefined) say`one-time sign-in link (valid until ${link.expiresAt}; give it only to ${created.name}):\n  ${link.url}\n`;
    });

  operators
    .command('list')
    .description('list operators')
    .action(async () => {
      const list = await adminClient(globals()).operators.list();
      if (globals().json) return printJson(list);
      printTable(['name', 'role', 'password', 'created'], list.map((o) => [o.name, o.role, o.hasPassword ? 'set' : '-', o.createdAt]));
    });

  operators
    .command('show <name>')
    .description('one operator and their API keys (never the keys themselves)')
    .action(async (name: string) => {
      const client = adminClient(globals());
      const operator = await client.operators.get(name);
      const keys = await client.operators.keys.list(name);
      if (globals().json) return printJson({ ...operator, keys });
      printFields([
        ['name', operator.name],
        ['id', operator.id],
        ['role', operator.role],
        ['password', operator.hasPassword ? 'set' : 'not set (sign-in links only)'],
        ['created', operator.createdAt],
        ['updated', operator.updatedAt],
        ['keys', keys.map((k) => `${k.id} (${k.role})`)],
      ]);
    });

  operators
    .command('update <name>')
    .description("change an operator's role or password (a new password signs them out everywhere)")
    .option('--role <role>', 'admin, operator or viewer')
    .option('--password-stdin', 'read the new password from standard input')
    .action(async (name: string, o: { role?: string; passwordStdin?: boolean }) => {
      if (o.role === undefined && !o.passwordStdin) throw new UsageError('give --role and/or --password-stdin');
      const newRole = role(o.role);
      const password = o.passwordStdin ? secretFromStdin('--password-stdin', 'line') : undefined;
      const updated = await adminClient(globals()).operators.update(name, {
        ...(newRole === undefined ? {} : { role: newRole }),
        ...(password === undefined ? {} : { password }),
      });
      if (globals().json) return printJson(updated);
      say`operator ${updated.name}: role ${updated.role}${password === undefined ? '' : ', password changed'}\n`;
    });

  operators
    .command('remove <name>')
    .alias('rm')
    .description('remove an operator; their sessions and keys stop working at once')
    .action(async (name: string) => {
      const result = await adminClient(globals()).operators.remove(name);
      if (globals().json) return printJson(result);
      say`operator ${name} removed\n`;
    });

  operators
    .command('sign-in-link <name>')
    .description('a one-time console sign-in link for an operator (15 minutes)')
    .action(async (name: string) => {
      const link = await adminClient(globals()).operators.signInLink(name);
      if (globals().json) return printJson(link);
      say`one-time sign-in link for ${name} (valid until ${link.expiresAt}):\n  ${link.url}\n`;
    });

  const keys = operators.command('keys').description("an operator's API keys (lko_…), for scripts and the CLI");

  keys
    .command('create <name>')
    .description('make a key (printed once); use it as LATCHKEY_ADMIN_TOKEN for the CLI')
    .option('--role <role>', "the key's role, at most the operator's (default: the operator's)")
    .action(async (name: string, o: { role?: string }) => {
      const keyRole = role(o.role);
      const created = await adminClient(globals()).operators.keys.create(name, keyRole === undefined ? {} : { role: keyRole });
      if (globals().json) return printJson(created);
      say`key ${created.id} for ${created.operator} with the role ${created.role} (shown once):\n  ${created.apiKey}\n`;
    });

  keys
    .command('list <name>')
    .description("an operator's keys (ids and roles only)")
    .action(async (name: string) => {
      const list = await adminClient(globals()).operators.keys.list(name);
      if (globals().json) return printJson(list);
      printTable(['id', 'role', 'created', 'last used'], list.map((k) => [k.id, k.role, k.createdAt, k.lastUsedAt]));
    });

  keys
    .command('remove <name> <keyId>')
    .alias('rm')
    .description('remove a key; it stops working at once')
    .action(async (name: string, keyId: string) => {
      const result = await adminClient(globals()).operators.keys.remove(name, keyId);
      if (globals().json) return printJson(result);
      say`key ${keyId} of ${name} removed\n`;
    });
}
