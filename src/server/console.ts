import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The console's headers. The SPA is built without inline script or style
 * (console/vite.config.ts), so the policy can forbid both; `frame-ancestors`
 * and `form-action` stop clickjacking and form hijacking.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

interface StaticFile {
  body: Buffer;
  type: string;
  /** Vite's hashed assets never change under their name. */
  immutable: boolean;
}

/** dist/console next to dist/server (installed), or the checkout's dist/console when run from source. */
function consoleDir(): string | undefined {
  const candidates = ['../console/', '../../dist/console/'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/**
 * The built files, read once into memory by their URL path. Only these exact
 * paths are ever answered, so no request path (dot segments, encoded
 * slashes, NUL) can reach another file on disk.
 */
function loadFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const path of walk(dir)) {
    const rel = relative(dir, path).split(sep).join('/');
    const type = TYPES[extname(path)];
    if (type === undefined) continue;
    files.set(`/console/${rel}`, { body: readFileSync(path), type, immutable: rel.startsWith('assets/') });
  }
  return files;
}

function consoleHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin');
}

const NOT_BUILT =
  '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Latchkey console</title></head>' +
  '<body><main><h1>The console is not built</h1><p>Run <code>npm run build</code> in the Latchkey checkout.</p></main></body></html>';

/**
 * GET / and /console/…: the single-page console (no authentication here; the
 * app signs in against the REST API, which is the real guard). Any path
 * under /console/ that is not a file is one of the app's history routes and
 * gets index.html; a missing asset is a 404.
 */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const dir = consoleDir();
  const files = dir === undefined ? new Map<string, StaticFile>() : loadFiles(dir);
  const index = files.get('/console/index.html');

  app.get('/', { exposeHeadRoute: false }, async (_request, reply) => reply.redirect('/console/', 302));
  app.get('/console', { exposeHeadRoute: false }, async (_request, reply) => reply.redirect('/console/', 302));
  app.get('/console/*', { exposeHeadRoute: false }, async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '';
    consoleHeaders(reply);
    const file = files.get(path);
    if (file !== undefined && file !== index) {
      return reply
        .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .type(file.type)
        .send(file.body);
    }
    reply.header('cache-control', 'no-store');
    if (path.startsWith('/console/assets/')) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    if (index === undefined) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    return reply.type(index.type).send(index.body);
  });
}
