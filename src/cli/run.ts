import { CommanderError } from 'commander';
import { errorObjectFor, exitCodeFor } from './context.js';
import { printJsonError, sayError } from './output.js';
import { buildProgram } from './registry.js';

/** Parses and runs one command line (without `node main.js`); resolves to the exit status. */
export async function runCli(args: string[]): Promise<number> {
  // Known before parsing, so a usage error can be answered as JSON too.
  const json = args.includes('--json');
  try {
    const program = await buildProgram(args);
    if (json) {
      // Commander's own usage text would not be JSON: keep its help and version output, report its errors ourselves.
      const quiet = (c: typeof program): void => {
        c.configureOutput({ outputError: () => {} }).showHelpAfterError(false);
        c.commands.forEach(quiet);
      };
      quiet(program);
    }
    await program.parseAsync(args, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const { code, message } = exitCodeFor(err);
    if (json && code !== 0) printJsonError(errorObjectFor(err));
    else if (message !== undefined) sayError`latchkey: ${message}\n`;
    if (err instanceof CommanderError && code === 0) return 0;
    return code;
  }
}
