import type { Command } from 'commander';
import type { McpConsentDecision } from '../../sdk/index.js';
import { UsageError, adminClient, type GlobalOptions } from '../context.js';
import { printJson, printTable, say } from '../output.js';

/**
 * `latchkey mcp-consent show UID | approve UID --agent A | --new-agent NAME | deny UID`:
 * the consent step of a remote MCP client's authorization, for operators
 * without the console (GET and POST /v1/mcp-consent/{uid}).
 */
export function register(program: Command, globals: () => GlobalOptions): void {
  const consent = program.command('mcp-consent').description('decide a remote MCP client\'s authorization (the uid is in the console URL /console/mcp/consent/UID)');
  consent
    .command('show')
    .argument('<uid>')
    .description('the client asking: name, redirect URI, where its metadata came from')
    .action(async (uid: string) => {
      const view = await adminClient(globals()).mcpConsent.get(uid);
      if (globals().json) return printJson(view);
      printTable(
        ['client', 'name', 'registration', 'redirect uri', 'scopes', 'expires'],
        [[view.client.clientId, view.client.name, view.client.registration, view.redirectUri, view.scopes.join(' '), view.expiresAt]],
      );
    });
  consent
    .command('approve')
    .argument('<uid>')
    .option('--agent <name>', 'the existing agent the client acts as')
    .option('--new-agent <name>', 'create this agent (default-deny policy) for the client')
    .description('let the client act as an agent; the browser that asked then continues')
    .action(async (uid: string, options: { agent?: string; newAgent?: string }) => {
      if ((options.agent === undefined) === (options.newAgent === undefined)) throw new UsageError('give exactly one of --agent or --new-agent');
      const body: McpConsentDecision = options.agent !== undefined ? { agent: options.agent } : { newAgent: { name: options.newAgent as string } };
      const result = await adminClient(globals()).mcpConsent.decide(uid, body);
      if (globals().json) return printJson(result);
      say`approved: the client acts as agent ${result.agent?.name ?? ''}\nthe browser continues at ${result.redirectTo}\n`;
    });
  consent
    .command('deny')
    .argument('<uid>')
    .description('refuse the client')
    .action(async (uid: string) => {
      const result = await adminClient(globals()).mcpConsent.decide(uid, { deny: true });
      if (globals().json) return printJson(result);
      process.stdout.write(`denied\n`);
    });
}
