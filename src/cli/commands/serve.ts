import type { Command } from 'commander';
import { CliFailure, UsageError } from '../context.js';

interface ServeOptions {
  port?: string;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  publicUrl?: string;
  allowHttpLoopback?: boolean;
  logLevel?: string;
}

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('run the Latchkey broker (embedded SQLite unless --database-url is given)')
    .option('--port <port>', 'listen port (LATCHKEY_PORT, default 8787)')
    .option('--host <host>', 'listen address (LATCHKEY_HOST, default 127.0.0.1)')
    .option('--data-dir <dir>', 'data directory (LATCHKEY_DATA_DIR, default ~/.latchkey)')
    .option('--database-url <url>', 'postgres://... to use PostgreSQL (DATABASE_URL)')
    .option('--public-url <url>', 'external origin for redirect URIs (LATCHKEY_PUBLIC_URL)')
    .option('--allow-http-loopback', 'accept http:// endpoints on loopback hosts (development and tests only)')
    .option('--log-level <level>', 'pino log level (LATCHKEY_LOG_LEVEL, default info)')
    .action(async (options: ServeOptions) => {
      // The whole server loads only here, so client commands start fast (see main.ts).
      const [{ ConfigError, loadConfig }, { MasterKeyExposed, MasterKeyMismatch, MasterKeyMissing }, { startServer }] = await Promise.all([
        import('../../config/index.js'),
        import('../../crypto/index.js'),
        import('../../server/index.js'),
      ]);
      let config;
      try {
        config = loadConfig(options, process.env);
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(`invalid configuration: ${err.message}`);
        throw err;
      }
      let server;
      try {
        server = await startServer(config);
      } catch (err) {
        if (err instanceof MasterKeyMismatch || err instanceof MasterKeyMissing || err instanceof MasterKeyExposed) throw new CliFailure(err.message);
        if ((err as { code?: string }).code === 'EADDRINUSE') {
          throw new CliFailure(`port ${config.port} on ${config.host} is already in use (use --port)`);
        }
        throw err;
      }
      // One write, so whoever reads the first line also has the token.
      let banner = `Latchkey listening on ${server.url} (${server.core.store.db.describe})\n`;
      if (server.core.newAdminToken !== undefined) {
        banner +=
          `\nAdmin token (shown once; only its hash is kept, in ${config.dataDir}/admin-token.sha256):\n  ${server.core.newAdminToken}\n` +
          'Give it to the CLI as LATCHKEY_ADMIN_TOKEN; `latchkey admin-token reset` makes a new one.\n\n';
      }
      process.stdout.write(banner);
      const stop = (): void => {
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
