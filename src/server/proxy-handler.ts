import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONNECTION_NAME_RULE, isConnectionName } from '../api/index.js';
import { InvalidRequest, LatchkeyError, NotFound, UpstreamError } from '../errors.js';
import type { Latchkey } from '../latchkey.js';
import { pathOf } from '../log.js';
import { authenticateAgent } from './auth.js';
import { errorBody } from './errors.js';
import type { RequestMetrics } from './metrics.js';

export const PROXY_PREFIX = '/v1/proxy/';
export const PROXY_ROUTE = '/v1/proxy/:connection/*';

/** Splits the raw, still-encoded request URL: a decoded path would hide `%2f` and `%2e%2e` from the target checks. */
export function splitProxyUrl(rawUrl: string): { connection: string; rawPath: string; rawQuery: string } {
  const q = rawUrl.indexOf('?');
  const pathPart = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const rest = pathPart.slice(PROXY_PREFIX.length);
  const slash = rest.indexOf('/');
  const segment = slash === -1 ? rest : rest.slice(0, slash);
  let connection: string;
  try {
    connection = decodeURIComponent(segment);
  } catch {
    throw new InvalidRequest('the connection name is not valid');
  }
  // Refuses "..", "." and "%2e%2e" here too: a client that resolves dot segments would have sent another route.
  if (connection !== '' && !isConnectionName(connection)) throw new InvalidRequest(`the connection segment is not a connection name: ${CONNECTION_NAME_RULE}`);
  return { connection, rawPath: slash === -1 ? '' : rest.slice(slash), rawQuery: q === -1 ? '' : rawUrl.slice(q + 1) };
}

/** Whether the agent's request carries a body (chunked, or a non-zero Content-Length). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * `ANY /v1/proxy/{connection}/{path...}` on plain node:http, in front of
 * Fastify (app.ts hands these requests over before routing). It is the
 * hottest route by far, and what it needs from a framework — a prefix match,
 * agent auth, the error body, a metrics count — costs less written out here
 * than Fastify's request and reply objects, hooks and stream reply path
 * (docs/benchmarks.md). Everything else about the request is the broker's.
 */
export function proxyHandler(core: Latchkey, metrics: RequestMetrics) {
  const debug = core.logger.isLevelEnabled('debug');

  function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, started: number): void {
    const { status, body, headers } = errorBody(err);
    if (status >= 500 && !(err instanceof LatchkeyError)) core.logger.error({ err, method: req.method, path: pathOf(req.url ?? '') }, 'request failed');
    else if (debug) core.logger.debug({ error: body.error, status }, 'request refused');
    // The rest of the agent's body is discarded and the connection closed after the answer, rather than
    // kept open for an upload of any length; reading it meanwhile lets the agent see the answer instead
    // of a reset from closing a socket with unread data.
    if (!req.complete && hasBody(req)) {
      res.shouldKeepAlive = false;
      req.unpipe();
      req.resume();
    }
    if (res.headersSent) {
      // Counted by the response's close handler.
      res.destroy();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    done(req, res, started);
  }

  function done(req: IncomingMessage, res: ServerResponse, started: number): void {
    const seconds = (performance.now() - started) / 1000;
    metrics.count(req.method ?? 'GET', PROXY_ROUTE, res.statusCode, seconds);
    if (debug) core.logger.debug({ method: req.method, path: pathOf(req.url ?? ''), statusCode: res.statusCode, responseTime: seconds * 1000 }, 'proxied request');
  }

  async function handle(req: IncomingMessage, res: ServerResponse, started: number): Promise<void> {
    // splitProxyUrl holds the connection segment to the name rule (invalid_request). The rest is the
    // upstream target, which the broker checks (NUL and non-UTF-8 escapes included) and audits if refused.
    const { connection, rawPath, rawQuery } = splitProxyUrl(req.url ?? PROXY_PREFIX);
    if (connection === '') throw new NotFound(`no route for ${req.method ?? 'GET'} ${pathOf(req.url ?? '')}`);
    const agent = await authenticateAgent(core, req);
    const length = req.headers['content-length'];
    const result = await core.broker.proxy(agent, {
      connection,
      method: req.method ?? 'GET',
      rawPath,
      rawQuery,
      headers: req.headers,
      body: hasBody(req) ? req : undefined,
      declaredLength: req.headers['transfer-encoding'] !== undefined || length === undefined ? undefined : Number(length),
    });
    // The upstream broke off while the outcome was being audited: nothing was sent yet, so say so.
    if (result.body.destroyed) throw new UpstreamError('the upstream answer broke off before it could be relayed');
    res.writeHead(result.status, result.headers);
    // Not stream.pipeline: it builds an Error (with a stack trace) for every response it completes.
    const body = result.body;
    // `on`, not `once`: a second error with no listener would end the process.
    body.on('error', () => res.destroy());
    res.once('close', () => {
      // The agent went away (or the upstream failed) before the end: stop reading from upstream.
      if (!res.writableFinished) body.destroy();
      done(req, res, started);
    });
    body.pipe(res);
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    handle(req, res, started).catch((err: unknown) => sendError(req, res, err, started));
  };
}
