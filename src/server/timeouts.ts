import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface RequestTimeouts {
  /** Longest time to receive a whole request, headers and body (LATCHKEY_REQUEST_TIMEOUT). */
  requestMs: number;
  /** Longest silence while a request body is being received (LATCHKEY_BODY_IDLE_TIMEOUT). */
  bodyIdleMs: number;
}

/** Fastify's default, set on the server made in serverFactory as Fastify would on its own. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** Node's default time to receive the request headers, unless the whole request is bounded tighter. */
const HEADERS_TIMEOUT_MS = 60_000;

function errorResponse(status: number, message: string): string {
  const body = JSON.stringify({ error: 'invalid_request', message });
  const reason = status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * What Node's parser refuses before a request exists (a malformed request
 * line, headers too large, Node's headers and request timeouts), answered in
 * Latchkey's error shape when nothing has been answered on the socket yet.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const started = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage?.headersSent === true;
  if (socket.writable && !started) {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') socket.write(errorResponse(408, 'the request was not received in time'));
    else if (err.code === 'HPE_HEADER_OVERFLOW') socket.write(errorResponse(431, 'the request headers are too large'));
    else socket.write(errorResponse(400, 'the request is not valid HTTP'));
  }
  socket.destroy();
}

function expectsBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Ends a request whose body stops arriving for `idleMs`: 408 if nothing was
 * answered yet, and the connection closed (the proxy's upstream request,
 * which reads this body, is aborted with it). Silence while the body waits
 * on us (our buffer is full because the upstream reads slowly) is not the
 * client's: the timer starts again.
 */
function boundBodyIdle(req: IncomingMessage, res: ServerResponse, idleMs: number): void {
  if (!expectsBody(req)) return;
  const socket = req.socket;
  const onTimeout = (): void => {
    if (req.readableLength >= req.readableHighWaterMark) {
      socket.setTimeout(idleMs);
      return;
    }
    // Destroying the request is what tells its reader (the body parser, the upstream request) to give up.
    const close = (): void => {
      req.destroy();
      socket.destroy();
    };
    res.shouldKeepAlive = false;
    if (!res.headersSent) {
      const body = JSON.stringify({ error: 'invalid_request', message: `the request body stalled for more than ${idleMs / 1000} s` });
      res.writeHead(408, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
      res.end(body, close);
    } else close();
  };
  const done = (): void => {
    socket.setTimeout(0);
    req.off('timeout', onTimeout);
  };
  socket.setTimeout(idleMs);
  // The server passes a socket's timeout to the request it is reading; handled here, the socket is not destroyed by default.
  req.on('timeout', onTimeout);
  req.once('end', done);
  req.once('close', done);
}

/** How much of a refused request's body is read and discarded, at most, so that the client sees the answer. */
export const DISCARD_LIMIT_BYTES = 16 * 1024 * 1024;

const DISCARD_CHECK_MS = 20;

type ClosingSocket = Socket & { destroySoon?: () => void };

/**
 * A request answered before its body was read (413 over the body limit, 401,
 * any early error): closing the connection at once, with the upload still
 * arriving, makes the kernel reset it, and a client still sending (Node's
 * fetch, the SDK) reports EPIPE instead of the answer. So the rest of the body
 * is read and thrown away, up to `maxBytes`, before the connection is closed
 * (or, when the answer keeps it alive, before it is reused); a client sending
 * more than that is cut off. The request timeout bounds the time it takes.
 */
function discardUnreadBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): void {
  if (!expectsBody(req)) return;
  const socket = req.socket as ClosingSocket;
  const destroySoon = socket.destroySoon;
  let draining = false;
  const drain = (then: () => void): void => {
    if (draining) return;
    draining = true;
    // Node's parser drops the bytes of an answered request without emitting them, so what was
    // discarded is counted on the socket.
    const start = socket.bytesRead;
    const check = setInterval(() => {
      if (socket.bytesRead - start > maxBytes) socket.destroy();
    }, DISCARD_CHECK_MS);
    check.unref();
    const stop = (): void => clearInterval(check);
    req.once('end', () => {
      stop();
      then();
    });
    req.once('close', stop);
    socket.once('close', stop);
    req.resume();
  };
  // Node calls destroySoon when a `Connection: close` answer has been written (Fastify sends one for a body it refuses).
  if (typeof destroySoon === 'function') {
    socket.destroySoon = function closeAfterDiscarding(this: ClosingSocket): void {
      Reflect.deleteProperty(socket, 'destroySoon');
      if (req.complete || req.destroyed) return destroySoon.call(this);
      drain(() => destroySoon.call(this));
    };
  }
  const restore = (): void => {
    if (Object.hasOwn(socket, 'destroySoon') && !draining) Reflect.deleteProperty(socket, 'destroySoon');
  };
  req.once('end', restore);
  req.once('close', restore);
  // A kept-alive answer: Node reads the rest itself before the next request; bound it.
  res.once('finish', () => {
    if (!req.complete && !req.destroyed && !draining) drain(() => {});
  });
}

/** The raw HTTP server with every request bounded in time: headers, the whole request, and silences in the body. */
export function boundedServer(timeouts: RequestTimeouts, handler: RequestListener): Server {
  const server = createServer(
    {
      requestTimeout: timeouts.requestMs,
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, timeouts.requestMs),
      // How often Node checks the two above (its default, 30 s, would let a short bound run long).
      connectionsCheckingInterval: Math.max(100, Math.min(5_000, timeouts.requestMs / 4)),
    },
    (req, res) => {
      boundBodyIdle(req, res, timeouts.bodyIdleMs);
      discardUnreadBody(req, res, DISCARD_LIMIT_BYTES);
      handler(req, res);
    },
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return server;
}
