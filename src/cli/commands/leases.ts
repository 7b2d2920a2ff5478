import type { Command } from 'commander';
import { adminClient, type GlobalOptions } from '../context.js';
import { printJson, printTable, say } from '../output.js';
import { agentClient } from './agent-client.js';

/**
 * `latchkey leases [list] | end ID [--rotate]`. Listing is the operator's
 * (admin token). Ending takes the admin token when one is set, else the
 * agent key in LATCHKEY_AGENT_KEY (an agent ends its own leases).
 */
export function register(program: Command, globals: () => GlobalOptions): void {
  const leases = program.command('leases').description('list and end raw-token leases');

  leases
    .command('list', { isDefault: true })
    .description('list active leases of every agent (admin)')
    .action(async () => {
      const list = await adminClient(globals()).leases.list();
      if (globals().json) return printJson(list);
      printTable(
        ['id', 'agent', 'connection', 'expires at', 'token expires at'],
        list.map((l) => [l.id, l.agent ?? l.agentId, l.connection, l.expiresAt, l.tokenExpiresAt]),
      );
    });

  leases
    .command('end <id>')
    .description('end a lease now (admin token, or the agent key for its own lease)')
    .option('--rotate', 'also revoke the leased token at the provider and refresh the connection, so a leaked copy stops working')
    .action(async (id: string, o: { rotate?: boolean }) => {
      const options = { rotate: o.rotate === true };
      const asAgent = !process.env.LATCHKEY_ADMIN_TOKEN && Boolean(process.env.LATCHKEY_AGENT_KEY);
      const result = asAgent ? await agentClient(globals()).endLease(id, options) : await adminClient(globals()).leases.end(id, options);
      if (globals().json) return printJson(result);
      const rotated = !options.rotate
        ? ''
        : `; token ${result.revokedAtProvider ? 'revoked at the provider' : 'not revoked at the provider'}` +
          (result.refreshed === true ? ', connection refreshed' : result.refreshError === null ? '' : ` (refresh failed: ${result.refreshError})`);
      say`lease ${id} ${result.ended ? 'ended' : 'had already ended'}${rotated}\n`;
    });
}
