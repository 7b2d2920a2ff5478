import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import { createLatchkey, type Latchkey, type LatchkeyOptions } from '../latchkey.js';
import { buildServer } from './app.js';

export { buildServer } from './app.js';
export { STATUS_BY_CODE, errorBody } from './errors.js';

export interface RunningServer {
  core: Latchkey;
  app: FastifyInstance;
  /** The URL the server listens on. */
  url: string;
  close(): Promise<void>;
}

/** Builds the core and the HTTP server and starts listening. */
export async function startServer(config: Config, options: LatchkeyOptions = {}): Promise<RunningServer> {
  const core = await createLatchkey(config, options);
  let app: FastifyInstance | undefined;
  try {
    app = await buildServer(core);
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app?.close();
    await core.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const running = app;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  // With --port 0 the derived public URL only becomes known now.
  if (config.publicUrlDerived) core.config.publicUrl = url;
  return {
    core,
    app: running,
    url,
    close: async () => {
      await running.close();
      await core.close();
    },
  };
}
