import type { Command } from 'commander';
import { adminClient, type GlobalOptions } from '../context.js';
import { printJson, printTable } from '../output.js';

/** `latchkey openapi`: the server's OpenAPI 3.1 document (GET /openapi.json), or with no --json, its routes. */
export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('openapi')
    .description('print the server\'s OpenAPI 3.1 document (--json), or the routes it lists')
    .action(async () => {
      const doc = await adminClient(globals()).openapi();
      if (globals().json) return printJson(doc);
      const rows = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => [method.toUpperCase(), path, op.security.map((s) => Object.keys(s)[0]).join(', ') || 'public']),
      );
      printTable(['method', 'path', 'auth'], rows);
    });
}
