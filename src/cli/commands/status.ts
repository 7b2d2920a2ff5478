import type { Command } from 'commander';
import { LatchkeyConnectionError } from '../../sdk/index.js';
import { adminClient, CliFailure, serverUrl, type GlobalOptions } from '../context.js';
import { printFields, printJson, printTable, say } from '../output.js';

/**
 * `latchkey status`, like `gh auth status` / `vault status`: is the server
 * there, which version and database, the key state, connections by status,
 * and what needs a person. Exit 0 when all is well, 1 when something needs a
 * person or the server cannot be reached.
 */
export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('status')
    .description('server, database, keys, connections by status and what needs a person; exit 1 if anything does')
    .action(async () => {
      const url = serverUrl(globals());
      let status;
      try {
        status = await adminClient(globals()).status();
      } catch (err) {
        if (err instanceof LatchkeyConnectionError) throw new CliFailure(`server not reachable at ${url} (is \`latchkey serve\` running? LATCHKEY_URL says where)`);
        throw err;
      }
      if (globals().json) printJson(status);
      else {
        const counts = Object.entries(status.connections.byStatus)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([s, n]) => `${s} ${n}`)
          .join(', ');
        printFields([
          ['server', `${url} (reachable)`],
          ['version', status.version],
          ['database', status.database.kind],
          ['keys', `${status.keys.total} (active ${status.keys.activeKeyId ?? 'none'}; master key from ${status.keys.masterKey === 'env' ? 'LATCHKEY_MASTER_KEY' : 'the data directory'})`],
          ['connections', `${status.connections.total}${counts === '' ? '' : ` (${counts})`}`],
        ]);
        if (status.attention.length === 0 && !status.needsAttention) say`\nnothing needs attention\n`;
        else {
          say`\nneeds attention:\n`;
          printTable(
            ['kind', 'name', 'provider', 'status', 'reason'],
            status.attention.map((a) => [a.kind, a.name, a.provider ?? '', a.status, a.reason]),
          );
        }
      }
      if (status.needsAttention) process.exitCode = 1;
    });
}
