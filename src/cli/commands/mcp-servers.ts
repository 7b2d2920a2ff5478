import type { Command } from 'commander';
import type { McpServerCreate } from '../../sdk/index.js';
import { UsageError, adminClient, secretFromStdin, type GlobalOptions } from '../context.js';
import { printFields, printJson, printList, say } from '../output.js';

/** `latchkey mcp-servers add|list|show|remove`: upstream MCP servers behind Latchkey, one API call each. */
export function register(program: Command, globals: () => GlobalOptions): void {
  // `--url` is also the global option naming Latchkey's server, which commander reads wherever it stands:
  // every occurrence is kept, so that `add` can take the one it is given as the MCP server's (see mcpUrlOf).
  const urls: string[] = [];
  program.on('option:url', (value: string) => urls.push(value));
  const servers = program.command('mcp-servers').description('upstream MCP servers brokered through Latchkey (connect one with `latchkey connect NAME`)');

  servers
    .command('add <name>')
    .description('discover an MCP server (RFC 9728), register Latchkey as its OAuth client and make its provider')
    .argument('[url]', 'the same as --url')
    .option('--url <url>', "the MCP server's Streamable HTTP endpoint, e.g. https://mcp.example.com/mcp (here Latchkey's own URL comes only from LATCHKEY_URL)")
    .option('--client-id <id>', 'a client registered by hand at its authorization server (else CIMD or dynamic registration)')
    .option('--client-secret-stdin', 'read that client\'s secret from standard input')
    .action(async (name: string, positional: string | undefined, o: { clientId?: string; clientSecretStdin?: boolean }) => {
      if (o.clientSecretStdin && o.clientId === undefined) throw new UsageError('--client-secret-stdin needs --client-id');
      const url = mcpUrlOf(positional, urls);
      const body: McpServerCreate = { name, url };
      if (o.clientId !== undefined) body.clientId = o.clientId;
      if (o.clientSecretStdin) body.clientSecret = secretFromStdin('--client-secret-stdin');
      // Never the --url given here: the admin token goes to LATCHKEY_URL (or the default) only.
      const created = await adminClient({}).mcpServers.create(body);
      if (globals().json) return printJson(created);
      say`MCP server ${created.name} added (client ${created.registration}); connect it with: latchkey connect ${created.provider}\n`;
    });

  servers
    .command('list')
    .description('list upstream MCP servers')
    .action(async () => {
      const list = adminClient(globals()).mcpServers.iterate();
      await printList(globals().json === true, list, ['name', 'url', 'registration', 'issuer'], (s) => [s.name, s.url, s.registration, s.issuer]);
    });

  servers
    .command('show <name>')
    .description('one upstream MCP server')
    .action(async (name: string) => {
      const s = await adminClient(globals()).mcpServers.get(name);
      if (globals().json) return printJson(s);
      printFields([
        ['name', s.name],
        ['url', s.url],
        ['resource', s.resource],
        ['provider', s.provider],
        ['issuer', s.issuer],
        ['registration', s.registration],
        ['client id', s.clientId],
        ['scopes', s.scopes],
        ['resource metadata', s.resourceMetadataUrl],
        ['created', s.createdAt],
      ]);
    });

  servers
    .command('remove <name>')
    .alias('rm')
    .description('remove an MCP server and its provider (--force: also its connections, revoked at its authorization server)')
    .option('--force', 'delete its connections too')
    .action(async (name: string, o: { force?: boolean }) => {
      const removed = await adminClient(globals()).mcpServers.remove(name, { force: o.force === true });
      if (globals().json) return printJson(removed);
      say`MCP server ${name} removed (${removed.removedConnections} connection(s) deleted, ${removed.revokedAtProvider} revoked upstream)\n`;
    });
}

/**
 * The MCP server's URL: the one URL given, as --url or after NAME. Two URLs
 * are refused rather than told apart by their order: the wrong guess would
 * send the admin token (and a client secret) to the MCP server.
 */
function mcpUrlOf(positional: string | undefined, urls: string[]): string {
  const given = positional === undefined ? urls : [...urls, positional];
  const [url] = given;
  if (url === undefined) throw new UsageError("give the MCP server's URL: latchkey mcp-servers add NAME --url URL");
  if (given.length > 1) {
    throw new UsageError(
      `mcp-servers add takes one URL, the MCP server's, and was given ${given.length}: give Latchkey's own URL as LATCHKEY_URL, not --url (so the admin token cannot go to the MCP server)`,
    );
  }
  return url;
}
