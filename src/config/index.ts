import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDuration } from '../duration.js';
import { addressKind, parseNetwork } from '../net/index.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The one typed configuration of the server: nothing else in it reads process.env (the CLI reads its own few variables). */
export interface Config {
  port: number;
  host: string;
  /** External origin, without a trailing slash; the OAuth redirect URI is `${publicUrl}/oauth/callback`. */
  publicUrl: string;
  /** True when publicUrl was derived from host and port (it then follows the real port after listen). */
  publicUrlDerived: boolean;
  dataDir: string;
  /** `postgres://...` to use PostgreSQL; undefined means embedded SQLite in dataDir. */
  databaseUrl: string | undefined;
  adminToken: string | undefined;
  /** 32-byte master key from LATCHKEY_MASTER_KEY; undefined means the key file in dataDir. */
  masterKey: Buffer | undefined;
  allowedReturnOrigins: string[];
  allowHttpLoopback: boolean;
  /** CIDR networks whose private addresses outbound connections may reach (LATCHKEY_ALLOWED_PRIVATE_NETWORKS). */
  allowedPrivateNetworks: string[];
  refreshSkewSeconds: number;
  /** Seconds a refresh claim lasts before another process may take over (LATCHKEY_REFRESH_CLAIM_TTL). */
  refreshClaimTtlSeconds: number;
  /** Seconds a token endpoint request may take (LATCHKEY_TOKEN_TIMEOUT); the holder's heartbeat keeps its claim meanwhile. */
  tokenRequestTimeoutSeconds: number;
  /** At most one refresh an upstream 401 asks for per connection in this many seconds (LATCHKEY_UNAUTHORIZED_REFRESH_COOLDOWN). */
  unauthorizedRefreshCooldownSeconds: number;
  /** Seconds between background refresher passes; 0 switches it off (LATCHKEY_REFRESHER_INTERVAL). */
  refresherIntervalSeconds: number;
  /** The background refresher renews tokens expiring within this many seconds (LATCHKEY_REFRESHER_LEAD). */
  refresherLeadSeconds: number;
  /** Background refreshes running at once per provider (LATCHKEY_REFRESHER_CONCURRENCY). */
  refresherConcurrency: number;
  /** Seconds between passes over pending revocation jobs; 0 switches the loop off (LATCHKEY_REVOCATION_INTERVAL). */
  revocationIntervalSeconds: number;
  /** A revocation job is given up after this many attempts (LATCHKEY_REVOCATION_MAX_ATTEMPTS). */
  revocationMaxAttempts: number;
  /** ... or this many seconds after the connection was deleted (LATCHKEY_REVOCATION_MAX_AGE). */
  revocationMaxAgeSeconds: number;
  /** Seconds between webhook outbox passes; 0 switches delivery off (LATCHKEY_WEBHOOK_INTERVAL). */
  webhookIntervalSeconds: number;
  logLevel: LogLevel;
  metricsPublic: boolean;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** Audit events older than this many seconds are pruned daily (LATCHKEY_AUDIT_RETENTION); undefined keeps them all. */
  auditRetentionSeconds: number | undefined;
  /** Failed authentications one source may make per window before it is refused with 429; 0 turns the limit off (LATCHKEY_AUTH_FAILURE_LIMIT). */
  authFailureLimit: number;
  /** The window of that limit, in seconds (LATCHKEY_AUTH_FAILURE_WINDOW). */
  authFailureWindowSeconds: number;
  /** Behind one trusted reverse proxy: the source is the last X-Forwarded-For address (LATCHKEY_TRUST_PROXY). */
  trustProxy: boolean;
  /** Extra host names the server answers to besides the public URL's and localhost (LATCHKEY_ALLOWED_HOSTS). */
  allowedHosts: string[];
  /** LATCHKEY_INSECURE_PUBLIC_URL: the operator accepted a plain-http public URL off loopback (warned and audited at start). */
  insecurePublicUrl: boolean;
  /** Seconds a client has to send a whole request, headers and body (LATCHKEY_REQUEST_TIMEOUT). */
  requestTimeoutSeconds: number;
  /** Longest silence, in seconds, while a request body is arriving (LATCHKEY_BODY_IDLE_TIMEOUT). */
  bodyIdleTimeoutSeconds: number;
  /** Lifetime of the access tokens Latchkey issues to remote MCP clients, in seconds (LATCHKEY_MCP_ACCESS_TOKEN_TTL). */
  mcpAccessTokenTtlSeconds: number;
  /** Lifetime of their refresh tokens, in seconds (LATCHKEY_MCP_REFRESH_TOKEN_TTL); each use rotates it. */
  mcpRefreshTokenTtlSeconds: number;
  /** A console session ends after this many seconds without a request (LATCHKEY_SESSION_IDLE_TIMEOUT). */
  sessionIdleTimeoutSeconds: number;
  /** ... and this many seconds after sign-in in any case (LATCHKEY_SESSION_MAX_AGE). */
  sessionMaxAgeSeconds: number;
}

/** Raised for an invalid setting; the message names it. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigFlags {
  port?: string | number;
  host?: string;
  publicUrl?: string;
  dataDir?: string;
  databaseUrl?: string;
  allowHttpLoopback?: boolean;
  logLevel?: string;
}

type Env = Record<string, string | undefined>;

export function loadConfig(flags: ConfigFlags = {}, env: Env = {}): Config {
  const port = parsePort(pick(flags.port, env.LATCHKEY_PORT), '--port / LATCHKEY_PORT');
  const host = pick(flags.host, env.LATCHKEY_HOST) ?? '127.0.0.1';
  const publicUrlSetting = pick(flags.publicUrl, env.LATCHKEY_PUBLIC_URL);
  const publicUrl = parsePublicUrl(publicUrlSetting, host, port);
  const dataDir = resolve(pick(flags.dataDir, env.LATCHKEY_DATA_DIR) ?? join(homedir(), '.latchkey'));
  const databaseUrl = parseDatabaseUrl(pick(flags.databaseUrl, env.DATABASE_URL));
  const insecurePublicUrl = parseBool(env.LATCHKEY_INSECURE_PUBLIC_URL, 'LATCHKEY_INSECURE_PUBLIC_URL');
  checkPublicUrlTransport(publicUrl, publicUrlSetting === undefined ? '--host / LATCHKEY_HOST' : '--public-url / LATCHKEY_PUBLIC_URL', insecurePublicUrl);
  checkTlsVerification(env);
  const adminToken = nonEmpty(env.LATCHKEY_ADMIN_TOKEN);
  // The CLI accepts an operator key in this variable; the server must not take one for its admin token.
  if (adminToken?.startsWith('lko_') === true) {
    throw new ConfigError('LATCHKEY_ADMIN_TOKEN', 'holds an operator API key (lko_…), which only the CLI accepts there; give the server its admin token, or unset it');
  }
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError('LATCHKEY_ADMIN_TOKEN', 'must be at least 16 characters');
  }
  return {
    port,
    host,
    publicUrl,
    publicUrlDerived: publicUrlSetting === undefined,
    dataDir,
    databaseUrl,
    adminToken,
    masterKey: parseMasterKey(nonEmpty(env.LATCHKEY_MASTER_KEY)),
    allowedReturnOrigins: parseOrigins(env.LATCHKEY_ALLOWED_RETURN_ORIGINS),
    allowHttpLoopback: flags.allowHttpLoopback === true || parseBool(env.LATCHKEY_ALLOW_HTTP_LOOPBACK, 'LATCHKEY_ALLOW_HTTP_LOOPBACK'),
    allowedPrivateNetworks: parsePrivateNetworks(env.LATCHKEY_ALLOWED_PRIVATE_NETWORKS),
    refreshSkewSeconds: parseNonNegativeInt(env.LATCHKEY_REFRESH_SKEW, 60, 'LATCHKEY_REFRESH_SKEW'),
    refreshClaimTtlSeconds: parsePositiveInt(env.LATCHKEY_REFRESH_CLAIM_TTL, 60, 'LATCHKEY_REFRESH_CLAIM_TTL'),
    tokenRequestTimeoutSeconds: parsePositiveInt(env.LATCHKEY_TOKEN_TIMEOUT, 30, 'LATCHKEY_TOKEN_TIMEOUT'),
    unauthorizedRefreshCooldownSeconds: parseNonNegativeInt(
      env.LATCHKEY_UNAUTHORIZED_REFRESH_COOLDOWN,
      60,
      'LATCHKEY_UNAUTHORIZED_REFRESH_COOLDOWN',
    ),
    refresherIntervalSeconds: parseNonNegativeInt(env.LATCHKEY_REFRESHER_INTERVAL, 30, 'LATCHKEY_REFRESHER_INTERVAL'),
    refresherLeadSeconds: parseNonNegativeInt(env.LATCHKEY_REFRESHER_LEAD, 300, 'LATCHKEY_REFRESHER_LEAD'),
    refresherConcurrency: parsePositiveInt(env.LATCHKEY_REFRESHER_CONCURRENCY, 4, 'LATCHKEY_REFRESHER_CONCURRENCY'),
    revocationIntervalSeconds: parseNonNegativeInt(env.LATCHKEY_REVOCATION_INTERVAL, 30, 'LATCHKEY_REVOCATION_INTERVAL'),
    revocationMaxAttempts: parsePositiveInt(env.LATCHKEY_REVOCATION_MAX_ATTEMPTS, 10, 'LATCHKEY_REVOCATION_MAX_ATTEMPTS'),
    revocationMaxAgeSeconds: parseMaxAge(nonEmpty(env.LATCHKEY_REVOCATION_MAX_AGE)),
    webhookIntervalSeconds: parseNonNegativeInt(env.LATCHKEY_WEBHOOK_INTERVAL, 2, 'LATCHKEY_WEBHOOK_INTERVAL'),
    logLevel: parseLogLevel(pick(flags.logLevel, env.LATCHKEY_LOG_LEVEL)),
    metricsPublic: parseBool(env.LATCHKEY_METRICS_PUBLIC, 'LATCHKEY_METRICS_PUBLIC'),
    bodyLimit: parseNonNegativeInt(env.LATCHKEY_BODY_LIMIT, 1024 * 1024, 'LATCHKEY_BODY_LIMIT'),
    auditRetentionSeconds: parseRetention(nonEmpty(env.LATCHKEY_AUDIT_RETENTION)),
    authFailureLimit: parseNonNegativeInt(env.LATCHKEY_AUTH_FAILURE_LIMIT, 20, 'LATCHKEY_AUTH_FAILURE_LIMIT'),
    authFailureWindowSeconds: parseWindow(nonEmpty(env.LATCHKEY_AUTH_FAILURE_WINDOW)),
    trustProxy: parseBool(env.LATCHKEY_TRUST_PROXY, 'LATCHKEY_TRUST_PROXY'),
    insecurePublicUrl,
    allowedHosts: parseHostNames(env.LATCHKEY_ALLOWED_HOSTS),
    requestTimeoutSeconds: parsePositiveInt(env.LATCHKEY_REQUEST_TIMEOUT, 300, 'LATCHKEY_REQUEST_TIMEOUT'),
    bodyIdleTimeoutSeconds: parsePositiveInt(env.LATCHKEY_BODY_IDLE_TIMEOUT, 30, 'LATCHKEY_BODY_IDLE_TIMEOUT'),
    mcpAccessTokenTtlSeconds: parsePositiveInt(env.LATCHKEY_MCP_ACCESS_TOKEN_TTL, 600, 'LATCHKEY_MCP_ACCESS_TOKEN_TTL'),
    mcpRefreshTokenTtlSeconds: parsePositiveInt(env.LATCHKEY_MCP_REFRESH_TOKEN_TTL, 14 * 86400, 'LATCHKEY_MCP_REFRESH_TOKEN_TTL'),
    sessionIdleTimeoutSeconds: parseSessionDuration(nonEmpty(env.LATCHKEY_SESSION_IDLE_TIMEOUT), 30 * 60, 'LATCHKEY_SESSION_IDLE_TIMEOUT'),
    sessionMaxAgeSeconds: parseSessionDuration(nonEmpty(env.LATCHKEY_SESSION_MAX_AGE), 12 * 3600, 'LATCHKEY_SESSION_MAX_AGE'),
  };
}

function parseHostNames(value: string | undefined): string[] {
  return (nonEmpty(value) ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
    .map((name) => {
      if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name) || name.length > 253) {
        throw new ConfigError('LATCHKEY_ALLOWED_HOSTS', `"${name}" is not a host name (no scheme, port or path)`);
      }
      return name;
    });
}

/** Whether an http(s) origin's host is this machine (where plain http never crosses a network). */
export function isLoopbackOrigin(origin: string): boolean {
  const host = new URL(origin).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(host) || host === '::1';
}

/**
 * Authorization codes, state cookies and console sessions travel to the public URL: over plain
 * http off this machine anyone on the path reads them, and browsers refuse `__Host-` cookies.
 */
function checkPublicUrlTransport(publicUrl: string, setting: string, accepted: boolean): void {
  if (publicUrl.startsWith('https:') || isLoopbackOrigin(publicUrl) || accepted) return;
  throw new ConfigError(
    setting,
    `the public URL ${publicUrl} is plain http on a host other than this machine; put Latchkey behind https and set LATCHKEY_PUBLIC_URL to that origin (or set LATCHKEY_INSECURE_PUBLIC_URL=1 to accept the risk)`,
  );
}

/** Latchkey sends tokens to providers and APIs; with certificate checks off, anyone in the path can take them. */
function checkTlsVerification(env: Env): void {
  if (nonEmpty(env.NODE_TLS_REJECT_UNAUTHORIZED) !== '0') return;
  throw new ConfigError(
    'NODE_TLS_REJECT_UNAUTHORIZED',
    'is 0, which turns off TLS certificate checks for every provider and API Latchkey sends tokens to; unset it (for a private CA use NODE_EXTRA_CA_CERTS)',
  );
}

function parseMaxAge(value: string | undefined): number {
  if (value === undefined) return 3 * 86_400;
  const seconds = parseDuration(/^\d+$/.test(value) ? Number(value) : value);
  if (seconds === undefined || seconds < 1) {
    throw new ConfigError('LATCHKEY_REVOCATION_MAX_AGE', `"${value}" is not a duration such as 3d or 12h`);
  }
  return seconds;
}

function parseRetention(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = parseDuration(value);
  // Under a day would prune what the daily pass just wrote about; it is almost surely a typo for days.
  if (seconds === undefined || seconds < 86_400) {
    throw new ConfigError('LATCHKEY_AUDIT_RETENTION', `"${value}" is not a duration of at least a day, such as 90d`);
  }
  return seconds;
}

function parseSessionDuration(value: string | undefined, fallback: number, setting: string): number {
  if (value === undefined) return fallback;
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds <= 0) throw new ConfigError(setting, `"${value}" is not a duration such as 30m or 12h`);
  return seconds;
}

function parseWindow(value: string | undefined): number {
  if (value === undefined) return 60;
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds <= 0) throw new ConfigError('LATCHKEY_AUTH_FAILURE_WINDOW', `"${value}" is not a duration such as 60 or 1m`);
  return seconds;
}

function pick(flag: string | number | undefined, envValue: string | undefined): string | undefined {
  if (flag !== undefined && flag !== '') return String(flag);
  return nonEmpty(envValue);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parsePort(value: string | undefined, setting: string): number {
  if (value === undefined) return 8787;
  if (!/^\d+$/.test(value)) throw new ConfigError(setting, `"${value}" is not a port number`);
  const port = Number(value);
  if (port > 65535) throw new ConfigError(setting, `${port} is out of range (0-65535)`);
  return port;
}

function parsePublicUrl(value: string | undefined, host: string, port: number): string {
  if (value === undefined) {
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `http://${shownHost}:${port}`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('--public-url / LATCHKEY_PUBLIC_URL', `"${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('--public-url / LATCHKEY_PUBLIC_URL', 'must be an http(s) origin');
  }
  return url.origin;
}

function parseDatabaseUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^postgres(ql)?:\/\//.test(value)) {
    throw new ConfigError('--database-url / DATABASE_URL', 'must start with postgres:// or postgresql://');
  }
  return value;
}

function parseMasterKey(value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== value.replace(/=+$/, '')) {
    throw new ConfigError('LATCHKEY_MASTER_KEY', 'must be 32 bytes encoded as base64');
  }
  return key;
}

function parseOrigins(value: string | undefined): string[] {
  if (nonEmpty(value) === undefined) return [];
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((origin) => {
      try {
        const url = new URL(origin);
        if (url.origin === 'null') throw new Error('opaque');
        return url.origin;
      } catch {
        throw new ConfigError('LATCHKEY_ALLOWED_RETURN_ORIGINS', `"${origin}" is not an origin`);
      }
    });
}

function parsePrivateNetworks(value: string | undefined): string[] {
  return (nonEmpty(value) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((cidr) => {
      const base = cidr.split('/')[0] ?? '';
      if (parseNetwork(cidr) === undefined || addressKind(base) !== 'private') {
        throw new ConfigError('LATCHKEY_ALLOWED_PRIVATE_NETWORKS', `"${cidr}" is not a private network such as 10.0.0.0/8 or fd00::/8`);
      }
      return cidr;
    });
}

function parseBool(value: string | undefined, setting: string): boolean {
  const v = nonEmpty(value)?.toLowerCase();
  if (v === undefined) return false;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(setting, `"${value}" is not a boolean (use 1/0, true/false)`);
}

function parseNonNegativeInt(value: string | undefined, fallback: number, setting: string): number {
  const v = nonEmpty(value);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new ConfigError(setting, `"${v}" is not a non-negative whole number`);
  return Number(v);
}

function parsePositiveInt(value: string | undefined, fallback: number, setting: string): number {
  const n = parseNonNegativeInt(value, fallback, setting);
  if (n === 0) throw new ConfigError(setting, 'must be at least 1');
  return n;
}

function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined) return 'info';
  const level = LOG_LEVELS.find((l) => l === value.toLowerCase());
  if (level === undefined) {
    throw new ConfigError('--log-level / LATCHKEY_LOG_LEVEL', `"${value}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  return level;
}

export {
  ADMIN_TOKEN_HASH_FILE,
  newAdminToken,
  readAdminToken,
  resolveAdminToken,
  writeAdminTokenHash,
  type AdminCredential,
} from './admin-token.js';
