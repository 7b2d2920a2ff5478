import type { Command } from 'commander';
import type { ConnectLinkCreate } from '../../sdk/index.js';
import { UsageError, adminClient, durationArg, type GlobalOptions } from '../context.js';
import { printJson, printTable, say } from '../output.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface LinkOptions {
  subject?: string;
  name?: string;
  env?: string;
  scope: string[];
  expires?: string;
  connection?: string;
}

/** The request body, or a usage error for a combination the API would refuse. */
function linkBody(provider: string | undefined, options: LinkOptions): ConnectLinkCreate {
  const expires = options.expires === undefined ? {} : { expiresIn: options.expires };
  if (options.connection !== undefined) {
    if (provider !== undefined || options.subject !== undefined || options.name !== undefined || options.env !== undefined || options.scope.length > 0) {
      throw new UsageError('--connection reconnects an existing connection: give no PROVIDER, --subject, --name, --env or --scope with it');
    }
    return { connection: options.connection, ...expires };
  }
  if (provider === undefined) throw new UsageError('give PROVIDER (a new connection) or --connection NAME (reconnect one)');
  if (options.subject === undefined) throw new UsageError('--subject is required: whose account the link connects');
  return {
    provider,
    subject: options.subject,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.env === undefined ? {} : { environment: options.env }),
    ...(options.scope.length === 0 ? {} : { scopes: options.scope }),
    ...expires,
  };
}

/**
 * `latchkey connect-link PROVIDER --subject S …` / `--connection NAME`, and
 * `latchkey connect-links list | remove ID`: one API call each.
 */
export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('connect-link [provider]')
    .description('make a single-use link the account owner opens to connect (or, with --connection, reconnect) their account')
    .option('--subject <subject>', 'whose account this is (shown on the page)')
    .option('--name <name>', 'the connection name (default: generated)')
    .option('--env <environment>', 'environment of the new connection')
    .option('--scope <scope>', 'scope to request, repeatable (default: the provider’s)', collect, [])
    .option('--expires <duration>', 'how long the link stays valid, 60s to 30d (default 7d)', durationArg)
    .option('--connection <name>', 'reconnect this existing connection in place')
    .action(async (provider: string | undefined, options: LinkOptions) => {
      const created = await adminClient(globals()).connectLinks.create(linkBody(provider, options));
      if (globals().json) return printJson(created);
      say`connect link ${created.id} (single use, expires ${created.expiresAt}); send it to the account owner:\n  ${created.url}\n`;
    });

  const links = program.command('connect-links').description('connect links: list, remove');
  links
    .command('list', { isDefault: true })
    .description('list connect links (never their URLs)')
    .action(async () => {
      const list = await adminClient(globals()).connectLinks.list();
      if (globals().json) return printJson(list);
      printTable(
        ['id', 'status', 'provider', 'connection', 'subject', 'asked by', 'expires'],
        list.map((l) => [l.id, l.status, l.provider, l.connection ?? l.name, l.subject, l.requestedBy.name ?? l.requestedBy.type, l.expiresAt]),
      );
    });
  links
    .command('remove <id>')
    .alias('rm')
    .description('remove a link: it stops working at once')
    .action(async (id: string) => {
      const removed = await adminClient(globals()).connectLinks.remove(id);
      if (globals().json) return printJson(removed);
      say`connect link ${id} removed\n`;
    });
}
