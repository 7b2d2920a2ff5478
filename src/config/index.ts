import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDuration } from '../duration.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The one typed configuration. Nothing else in Latchkey reads process.env. */
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
  refreshSkewSeconds: number;
  /** Seconds a refresh claim lasts before another process may take over (LATCHKEY_REFRESH_CLAIM_TTL). */
  refreshClaimTtlSeconds: number;
  /** Seconds a token endpoint request may take (LATCHKEY_TOKEN_TIMEOUT); always shorter than the claim. */
  tokenRequestTimeoutSeconds: number;
  /** Seconds between background refresher passes; 0 switches it off (LATCHKEY_REFRESHER_INTERVAL). */
  refresherIntervalSeconds: number;
  /** The background refresher renews tokens expiring within this many seconds (LATCHKEY_REFRESHER_LEAD). */
  refresherLeadSeconds: number;
  /** Background refreshes running at once per provider (LATCHKEY_REFRESHER_CONCURRENCY). */
  refresherConcurrency: number;
  /** Seconds between webhook outbox passes; 0 switches delivery off (LATCHKEY_WEBHOOK_INTERVAL). */
  webhookIntervalSeconds: number;
  logLevel: LogLevel;
  metricsPublic: boolean;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** Audit events older than this many seconds are pruned daily (LATCHKEY_AUDIT_RETENTION); undefined keeps them all. */
  auditRetentionSeconds: number | undefined;
  /** Seconds a client has to send a whole request, headers and body (LATCHKEY_REQUEST_TIMEOUT). */
  requestTimeoutSeconds: number;
  /** Longest silence, in seconds, while a request body is arriving (LATCHKEY_BODY_IDLE_TIMEOUT). */
  bodyIdleTimeoutSeconds: number;
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
  const adminToken = nonEmpty(env.LATCHKEY_ADMIN_TOKEN);
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
    refreshSkewSeconds: parseNonNegativeInt(env.LATCHKEY_REFRESH_SKEW, 60, 'LATCHKEY_REFRESH_SKEW'),
    refreshClaimTtlSeconds: parsePositiveInt(env.LATCHKEY_REFRESH_CLAIM_TTL, 60, 'LATCHKEY_REFRESH_CLAIM_TTL'),
    tokenRequestTimeoutSeconds: parsePositiveInt(env.LATCHKEY_TOKEN_TIMEOUT, 30, 'LATCHKEY_TOKEN_TIMEOUT'),
    refresherIntervalSeconds: parseNonNegativeInt(env.LATCHKEY_REFRESHER_INTERVAL, 30, 'LATCHKEY_REFRESHER_INTERVAL'),
    refresherLeadSeconds: parseNonNegativeInt(env.LATCHKEY_REFRESHER_LEAD, 300, 'LATCHKEY_REFRESHER_LEAD'),
    refresherConcurrency: parsePositiveInt(env.LATCHKEY_REFRESHER_CONCURRENCY, 4, 'LATCHKEY_REFRESHER_CONCURRENCY'),
    webhookIntervalSeconds: parseNonNegativeInt(env.LATCHKEY_WEBHOOK_INTERVAL, 2, 'LATCHKEY_WEBHOOK_INTERVAL'),
    logLevel: parseLogLevel(pick(flags.logLevel, env.LATCHKEY_LOG_LEVEL)),
    metricsPublic: parseBool(env.LATCHKEY_METRICS_PUBLIC, 'LATCHKEY_METRICS_PUBLIC'),
    bodyLimit: parseNonNegativeInt(env.LATCHKEY_BODY_LIMIT, 1024 * 1024, 'LATCHKEY_BODY_LIMIT'),
    auditRetentionSeconds: parseRetention(nonEmpty(env.LATCHKEY_AUDIT_RETENTION)),
    requestTimeoutSeconds: parsePositiveInt(env.LATCHKEY_REQUEST_TIMEOUT, 300, 'LATCHKEY_REQUEST_TIMEOUT'),
    bodyIdleTimeoutSeconds: parsePositiveInt(env.LATCHKEY_BODY_IDLE_TIMEOUT, 30, 'LATCHKEY_BODY_IDLE_TIMEOUT'),
  };
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

export { ADMIN_TOKEN_FILE, readAdminToken, resolveAdminToken } from './admin-token.js';
