import type { Command } from 'commander';
import type { GlobalOptions } from '../context.js';
import { printFields, printJson, printTable } from '../output.js';
import { agentClient } from './agent-client.js';

/** `latchkey me`: the calling agent (LATCHKEY_AGENT_KEY), its policy and the connections it can use. */
export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('me')
    .description('show the calling agent and the connections it may use (agent key in LATCHKEY_AGENT_KEY)')
    .action(async () => {
      const me = await agentClient(globals()).me();
      if (globals().json) return printJson(me);
      printFields([
        ['agent', me.name],
        ['id', me.id],
        ['environment', me.environment],
        ['key id', me.keyId],
      ]);
      process.stdout.write('\n');
      printTable(
        ['connection', 'provider', 'status', 'capabilities', 'expires at'],
        me.connections.map((c) => [c.name, c.provider, c.status, (c.capabilities ?? []).map((x) => x.name).join(','), c.expiresAt]),
      );
    });
}
