import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/index.js';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out. Secrets should never reach a log call in the first
 * place; this is the second line of defence for headers and token-shaped fields.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.authorization',
  '*.accessToken',
  '*.refreshToken',
  '*.idToken',
  '*.clientSecret',
  '*.apiKey',
  '*.adminToken',
  '*.secret',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.client_secret',
  '*.code_verifier',
  '*.device_code',
  'accessToken',
  'refreshToken',
  'clientSecret',
  'apiKey',
  'secret',
];

/** Paths whose last segment is a one-time bearer token: a consent start link, a connect link. */
const TOKEN_PATHS = ['/oauth/start/', '/connect/'];

/**
 * Paths only, never query strings: an OAuth callback's query carries the code
 * and state. A consent start link and a connect link carry their one-time
 * token in the path.
 */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const prefix = TOKEN_PATHS.find((p) => path.startsWith(p));
  return prefix === undefined || path === `${prefix}page.css` ? path : `${prefix}[redacted]`;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'latchkey' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Fastify's default request serializer logs the full URL; these instance serializers take precedence.
    serializers: {
      req: (req: LoggedRequest) => ({ method: req.method, path: pathOf(req.url ?? ''), remoteAddress: req.ip }),
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
