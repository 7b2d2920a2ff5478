import type { Command } from 'commander';
import { durationArg, type GlobalOptions } from '../context.js';
import { printJson, say, sayError } from '../output.js';
import { agentClient } from './agent-client.js';

export function leaseCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('lease <connection>')
    .description('lease a raw access token for a bounded time (agent key in LATCHKEY_AGENT_KEY)')
    .option('--ttl <duration>', 'how long (e.g. 15m); never longer than the policy or the token allows', durationArg)
    .action(async (connection: string, o: { ttl?: string }) => {
      const lease = await agentClient(globals()).lease(connection, o.ttl === undefined ? {} : { ttl: o.ttl });
      if (globals().json) return printJson(lease);
      // The token alone on stdout, so `$(latchkey lease github)` works; the rest on stderr.
      sayError`lease ${lease.leaseId} until ${lease.expiresAt} (token expires ${lease.tokenExpiresAt ?? 'never'})\n`;
      say`${lease.accessToken}\n`;
    });
}
