import { resolve } from 'node:path';
import type { Command } from 'commander';
import { newAdminToken, writeAdminTokenHash } from '../../config/admin-token.js';
import { dataDirOf, type GlobalOptions } from '../context.js';
import { printJson, say } from '../output.js';

export function adminTokenCommand(program: Command, globals: () => GlobalOptions): void {
  const adminToken = program.command('admin-token').description('the break-glass admin token');
  adminToken
    .command('reset')
    .description('make a new admin token (shown once); the old one stops working within a second, without a restart')
    .option('--data-dir <dir>', 'the server’s data directory (LATCHKEY_DATA_DIR, default ~/.latchkey)')
    .action((options: { dataDir?: string }) => {
      // Run where the server's files are: whoever can write them could replace the token anyway.
      const dataDir = options.dataDir === undefined ? dataDirOf() : resolve(options.dataDir);
      const token = newAdminToken();
      writeAdminTokenHash(dataDir, token);
      if (globals().json) return printJson({ adminToken: token, dataDir });
      say`New admin token (shown once; only its hash is kept, in ${dataDir}/admin-token.sha256):\n  ${token}\n`;
      say`Servers started with LATCHKEY_ADMIN_TOKEN keep using that variable instead.\n`;
    });
}
