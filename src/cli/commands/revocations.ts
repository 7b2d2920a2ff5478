import type { Command } from 'commander';
import type { RevocationView } from '../../sdk/index.js';
import { UsageError, adminClient, type GlobalOptions } from '../context.js';
import { printList } from '../output.js';

const STATUSES = ['pending', 'revoked', 'failed'];

/** `latchkey revocations [--status S]`: revocation jobs left by deleted connections (GET /v1/revocations). */
export function revocationsCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('revocations')
    .description('revocations at the provider of deleted connections, with attempts and the last error')
    .option('--status <status>', 'pending, revoked or failed')
    .action(async (options: { status?: string }) => {
      if (options.status !== undefined && !STATUSES.includes(options.status)) {
        throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
      }
      const query = options.status === undefined ? {} : { status: options.status as RevocationView['status'] };
      const list = adminClient(globals()).revocations.iterate(query);
      await printList(globals().json === true, list, ['id', 'connection', 'provider', 'status', 'attempts', 'next attempt', 'last error'], (r) => [
        r.id,
        r.connection,
        r.provider,
        r.status,
        String(r.attempts),
        r.nextAttemptAt,
        r.lastError,
      ]);
    });
}
