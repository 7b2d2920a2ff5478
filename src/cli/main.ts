#!/usr/bin/env node
/**
 * The `latchkey` command.
 *
 * Start-up time matters (`latchkey --version` and client commands must not
 * load the server), so command modules are loaded lazily:
 *
 * - A command lives in `src/cli/commands/<name>.ts` and exports a register
 *   function `(program: Command, globals: () => GlobalOptions) => void`
 *   (new modules call it `register`) that declares the command, its
 *   sub-commands and options with commander.
 * - Its top level imports only light things: commander types, `../context.js`,
 *   `../output.js`, the SDK (`../../sdk/index.js`), node built-ins. Anything
 *   heavy (the server, the store, Kysely, openid-client, pino, the MCP SDK,
 *   providers/) is imported inside the action handler with `await import()`.
 * - One line in `COMMANDS` in `src/cli/registry.ts` (alphabetical) names the
 *   top-level word(s) it registers and how to load it:
 *     { names: ['status'], load: async () => (await import('./commands/status.js')).register },
 *   `latchkey status …` then loads only that module; help loads all of them.
 * - If the command calls a REST route, add the route to the map in
 *   test/cli-coverage.test.ts.
 *
 * Errors: throw UsageError (exit 2) or CliFailure (exit 1) from context.ts;
 * SDK errors exit 1. With `--json`, a failure prints the API's error object
 * (or {"error","message"} for a local failure) as JSON on stderr.
 */
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2));
