import type { Command } from 'commander';
import { adminClient, type GlobalOptions } from '../context.js';
import { printJson, printTable, say } from '../output.js';

export function keysCommand(program: Command, globals: () => GlobalOptions): void {
  const keys = program.command('keys').description('manage the encryption keys');
  keys
    .command('list')
    .description('list the data keys (ids and states; never key material)')
    .action(async () => {
      const list = await adminClient(globals()).http.json<Array<{ id: string; status: string; createdAt: string; sealsReserved: number }>>('GET', '/v1/keys');
      if (globals().json) return printJson(list);
      printTable(
        ['id', 'status', 'created at', 'seals'],
        list.map((k) => [k.id, k.status, k.createdAt, k.sealsReserved]),
      );
    });

  keys
    .command('rotate')
    .description('add a new data key, re-seal every secret under it, retire unused keys')
    .action(async () => {
      if (process.stderr.isTTY) process.stderr.write('rotating keys…\n');
      const result = await adminClient(globals()).keys.rotate();
      if (globals().json) return printJson(result);
      say`new key ${result.newKeyId}; ${result.resealed} secret(s) re-sealed; retired: ${result.retiredKeyIds.join(', ') || 'none'}\n`;
    });
}
