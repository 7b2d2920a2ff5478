import type { Command } from 'commander';
import type { ConnectionView } from '../../sdk/index.js';
import { adminClient, type GlobalOptions } from '../context.js';
import { printFields, printJson, printList, say } from '../output.js';

export function showConnection(c: ConnectionView): void {
  printFields([
    ['id', c.id],
    ['name', c.name],
    ['provider', c.provider],
    ['client id', c.clientId],
    ['subject', c.subject],
    ['environment', c.environment],
    ['grant type', c.grantType],
    ['status', c.status],
    ['scopes', c.scopes],
    ...(c.apiBaseUrl ? [['api base', c.apiBaseUrl] as [string, string]] : []),
    ['expires at', c.expiresAt],
    ['refreshed at', c.lastRefreshedAt],
    ['last used', c.lastUsedAt],
    ['last error', c.lastError],
    ['created at', c.createdAt],
  ]);
}

interface ListOptions {
  provider?: string;
  status?: string;
  env?: string;
  subject?: string;
  expiring?: string;
}

export function connectionsCommand(program: Command, globals: () => GlobalOptions): void {
  const connections = program.command('connections').description('list and manage connections');

  connections
    .command('list')
    .description('list connections')
    .option('--provider <provider>', 'only this provider')
    .option('--status <status>', 'pending, active, needs_reauth, revoked or error')
    .option('--env <environment>', 'only this environment')
    .option('--subject <subject>', 'only this subject')
    .option('--expiring <duration>', 'only those whose token expires within this window (e.g. 1h)')
    .action(async (o: ListOptions) => {
      // Page by page as it prints: a million connections never sit in memory at once.
      const list = adminClient(globals()).connections.iterate({
        provider: o.provider,
        status: o.status,
        environment: o.env,
        subject: o.subject,
        expiringWithin: o.expiring,
      });
      await printList(globals().json === true, list, ['name', 'provider', 'env', 'subject', 'status', 'expires at'], (c) => [
        c.name,
        c.provider,
        c.environment,
        c.subject,
        c.status,
        c.expiresAt,
      ]);
    });

  connections
    .command('show <name>')
    .description('show one connection (never its tokens)')
    .action(async (name: string) => {
      const c = await adminClient(globals()).connections.get(name);
      if (globals().json) printJson(c);
      else showConnection(c);
    });

  connections
    .command('refresh <name>')
    .description('force a token refresh now')
    .action(async (name: string) => {
      const c = await adminClient(globals()).connections.refresh(name);
      if (globals().json) printJson(c);
      else say`connection ${c.name} refreshed; token expires ${c.expiresAt ?? 'never'}\n`;
    });

  connections
    .command('revoke <name>')
    .alias('remove')
    .description('revoke the grant at the provider and delete the connection')
    .action(async (name: string) => {
      const result = await adminClient(globals()).connections.remove(name);
      if (globals().json) printJson(result);
      else {
        const where = result.revokedAtProvider
          ? 'revoked at the provider and deleted'
          : result.revocation === undefined
            ? 'deleted (not revoked at the provider)'
            : `deleted; revocation at the provider failed (${result.revocation.lastError ?? 'no answer'}), ` +
              `retrying as ${result.revocation.id} (see latchkey revocations)`;
        say`connection ${name} ${where}\n`;
      }
    });
}
