#!/usr/bin/env node
import { Command } from 'commander';
import { exitCodeFor, type GlobalOptions } from './context.js';
import { sayError } from './output.js';
import { serveCommand } from './commands/serve.js';
import { presetsCommand, providersCommand } from './commands/providers.js';
import { connectionsCommand } from './commands/connections.js';
import { secretsCommand } from './commands/secrets.js';
import { keysCommand } from './commands/keys.js';
import { connectCommand } from './commands/connect.js';
import { oauthCommand } from './commands/oauth.js';
import { agentsCommand } from './commands/agents.js';
import { invokeCommand } from './commands/invoke.js';
import { leaseCommand } from './commands/lease.js';
import { auditCommand } from './commands/audit.js';
import { webhooksCommand } from './commands/webhooks.js';
import { revocationsCommand } from './commands/revocations.js';
import { mcpCommand } from './commands/mcp.js';
import { backupCommand } from './commands/backup.js';
import { adminTokenCommand } from './commands/admin-token.js';

const program = new Command('latchkey')
  .description('OAuth token vault and broker for AI agents')
  .version('0.1.0')
  .option('--json', 'print the API JSON instead of a table')
  .option('--url <url>', 'Latchkey server URL (LATCHKEY_URL, default http://127.0.0.1:8787)')
  .showHelpAfterError()
  .exitOverride();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();

serveCommand(program);
presetsCommand(program, globals);
providersCommand(program, globals);
connectionsCommand(program, globals);
secretsCommand(program, globals);
keysCommand(program, globals);
connectCommand(program, globals);
oauthCommand(program, globals);
agentsCommand(program, globals);
invokeCommand(program, globals);
leaseCommand(program, globals);
auditCommand(program, globals);
webhooksCommand(program, globals);
revocationsCommand(program, globals);
mcpCommand(program, globals);
backupCommand(program, globals);
adminTokenCommand(program, globals);

// Sub-commands exit through our handler too, so usage errors exit 2.
for (const command of program.commands) {
  command.exitOverride();
  for (const sub of command.commands) sub.exitOverride();
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const { code, message } = exitCodeFor(err);
  if (message !== undefined) sayError`latchkey: ${message}\n`;
  process.exitCode = code;
}
