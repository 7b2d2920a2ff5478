import { Command } from 'commander';
import { API_VERSION } from '../api/version.js';
import type { GlobalOptions } from './context.js';

/** What a command module gives the CLI: adds its command(s) to the program. */
export type Register = (program: Command, globals: () => GlobalOptions) => void;

export interface CommandEntry {
  /** The top-level command name(s) (and aliases) the module registers: `latchkey NAME …` loads only it. */
  names: string[];
  /** Imports the module; nothing heavy at its top level (see main.ts). */
  load: () => Promise<Register>;
}

/**
 * Every top-level command, by name, with how to load it. Kept in alphabetical
 * order so that additions from several branches land on different lines.
 */
export const COMMANDS: CommandEntry[] = [
  { names: ['admin-token'], load: async () => (await import('./commands/admin-token.js')).adminTokenCommand },
  { names: ['agents'], load: async () => (await import('./commands/agents.js')).agentsCommand },
  { names: ['audit'], load: async () => (await import('./commands/audit.js')).auditCommand },
  { names: ['backup'], load: async () => (await import('./commands/backup.js')).backupCommand },
  { names: ['connect'], load: async () => (await import('./commands/connect.js')).connectCommand },
  { names: ['connect-link', 'connect-links'], load: async () => (await import('./commands/connect-link.js')).register },
  { names: ['connections'], load: async () => (await import('./commands/connections.js')).connectionsCommand },
  { names: ['invoke'], load: async () => (await import('./commands/invoke.js')).invokeCommand },
  { names: ['keys'], load: async () => (await import('./commands/keys.js')).keysCommand },
  { names: ['lease'], load: async () => (await import('./commands/lease.js')).leaseCommand },
  { names: ['leases'], load: async () => (await import('./commands/leases.js')).register },
  { names: ['mcp'], load: async () => (await import('./commands/mcp.js')).mcpCommand },
  { names: ['mcp-consent'], load: async () => (await import('./commands/mcp-consent.js')).register },
  { names: ['mcp-servers'], load: async () => (await import('./commands/mcp-servers.js')).register },
  { names: ['me'], load: async () => (await import('./commands/me.js')).register },
  { names: ['mcp-tools'], load: async () => (await import('./commands/mcp-tools.js')).register },
  { names: ['oauth'], load: async () => (await import('./commands/oauth.js')).oauthCommand },
  { names: ['openapi'], load: async () => (await import('./commands/openapi.js')).register },
  { names: ['operators'], load: async () => (await import('./commands/operators.js')).register },
  { names: ['presets'], load: async () => (await import('./commands/providers.js')).presetsCommand },
  { names: ['proposals'], load: async () => (await import('./commands/proposals.js')).register },
  { names: ['providers'], load: async () => (await import('./commands/providers.js')).providersCommand },
  { names: ['revocations'], load: async () => (await import('./commands/revocations.js')).revocationsCommand },
  { names: ['secrets'], load: async () => (await import('./commands/secrets.js')).secretsCommand },
  { names: ['serve'], load: async () => (await import('./commands/serve.js')).serveCommand },
  { names: ['status'], load: async () => (await import('./commands/status.js')).register },
  { names: ['webhooks'], load: async () => (await import('./commands/webhooks.js')).webhooksCommand },
];

export const VERSION = API_VERSION;

/** The root command: global options only. */
export function rootProgram(): Command {
  return new Command('latchkey')
    .description('OAuth token vault and broker for AI agents')
    .version(VERSION)
    .option('--json', 'print the API JSON instead of a table (and failures as the API error object on stderr)')
    .option('--url <url>', 'Latchkey server URL (LATCHKEY_URL, default http://127.0.0.1:8787)')
    .showHelpAfterError()
    .exitOverride();
}

/**
 * The top-level command word of argv (after `node main.js`), skipping the
 * global options; undefined when there is none (`latchkey --help`).
 */
export function commandWord(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return args[i + 1];
    if (arg === '--url') {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return arg;
  }
  return undefined;
}

/**
 * Builds the program with the modules argv needs: only the named command's
 * module when the word is a known command; none for a bare `--version`;
 * all of them otherwise (help, `help CMD`, an unknown word commander should
 * answer with suggestions). `all` forces every module (tests, help).
 */
export async function buildProgram(args: string[], options: { all?: boolean } = {}): Promise<Command> {
  const program = rootProgram();
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const word = options.all ? undefined : commandWord(args);
  const known = word === undefined ? undefined : COMMANDS.find((c) => c.names.includes(word));
  let entries: CommandEntry[];
  if (known !== undefined) entries = [known];
  else if (!options.all && word === undefined && args.some((a) => a === '--version' || a === '-V')) entries = [];
  else entries = COMMANDS;
  const registers = await Promise.all(entries.map((e) => e.load()));
  for (const register of registers) register(program, globals);
  // Sub-commands exit through our handler too, so usage errors exit 2.
  const override = (command: Command): void => {
    command.exitOverride();
    for (const sub of command.commands) override(sub);
  };
  override(program);
  return program;
}
