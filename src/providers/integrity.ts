import { timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../crypto/index.js';
import { LatchkeyError } from '../errors.js';
import type { ProviderClientRow, ProviderRow } from '../store/index.js';

/**
 * Provider rows carry a MAC (HMAC-SHA256 under a key derived from the master
 * key) over the fields that decide where tokens and client secrets go, so a
 * database-only writer cannot point a provider at their own server: the row
 * no longer verifies and the provider is unusable. See docs/decisions.md,
 * "Provider integrity", for what it does not cover.
 */
export const PROVIDER_INTEGRITY_PURPOSE = 'latchkey provider integrity v1';
const VERSION = 'v1';

/** The provider could not be trusted: its row was written by someone without the master key. */
export class ProviderIntegrityFailed extends LatchkeyError {
  readonly provider: string;
  constructor(provider: string, what = 'provider') {
    super(
      'internal_error',
      `${what} "${provider}" failed its integrity check: its configuration was changed outside Latchkey; ` +
        'restore it from a backup, or remove it (latchkey providers remove NAME --force) and add it again',
    );
    this.provider = provider;
  }
}

/** JSON with object keys sorted at every depth: one spelling per value, whatever the database did to key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The bound fields of a provider row. The id and name tie the MAC to this row
 * (no swapping between providers). The sealed client secret is bound by its
 * presence only: its envelope is already authenticated to this row and column
 * (AES-GCM with that context), so a database writer cannot make one, and key
 * rotation re-seals it without touching the MAC.
 */
function providerFields(row: ProviderRow): Record<string, unknown> {
  return {
    kind: 'provider',
    id: row.id,
    name: row.name,
    issuer: row.issuer,
    authorizationEndpoint: row.authorizationEndpoint,
    tokenEndpoint: row.tokenEndpoint,
    revocationEndpoint: row.revocationEndpoint,
    deviceAuthorizationEndpoint: row.deviceAuthorizationEndpoint,
    userinfoEndpoint: row.userinfoEndpoint,
    introspectionEndpoint: row.introspectionEndpoint,
    clientId: row.clientId,
    hasClientSecret: row.clientSecret !== null,
    tokenEndpointAuthMethod: row.tokenEndpointAuthMethod,
    authorizeParams: row.authorizeParams,
    apiBaseUrl: row.apiBaseUrl,
    allowedHosts: row.allowedHosts,
    capabilities: row.capabilities,
    quirks: row.quirks,
    issParameterSupported: row.issParameterSupported,
  };
}

function clientFields(row: ProviderClientRow): Record<string, unknown> {
  return {
    kind: 'provider_client',
    id: row.id,
    providerId: row.providerId,
    clientId: row.clientId,
    hasClientSecret: row.clientSecret !== null,
    tokenEndpointAuthMethod: row.tokenEndpointAuthMethod,
  };
}

function mac(keyring: Keyring, fields: Record<string, unknown>): string {
  return `${VERSION}:${keyring.mac(PROVIDER_INTEGRITY_PURPOSE, canonicalJson(fields)).toString('base64url')}`;
}

function matches(expected: string, stored: string | null): boolean {
  if (stored === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function providerMac(keyring: Keyring, row: ProviderRow): string {
  return mac(keyring, providerFields(row));
}

export function providerClientMac(keyring: Keyring, row: ProviderClientRow): string {
  return mac(keyring, clientFields(row));
}

/** Hears of every row that failed its check (to log and audit it, awaited before the refusal); it must not throw. */
export type IntegrityFailureListener = (failure: { kind: 'provider' | 'provider_client'; id: string; provider: string }) => void | Promise<void>;

export function integrityChecker(keyring: Keyring, onFailure: IntegrityFailureListener = () => undefined) {
  return {
    mac: (row: ProviderRow) => providerMac(keyring, row),
    clientMac: (row: ProviderClientRow) => providerClientMac(keyring, row),
    /** Throws ProviderIntegrityFailed unless the row carries the MAC of its bound fields; a NULL integrity fails too. */
    async verify(row: ProviderRow): Promise<void> {
      if (matches(providerMac(keyring, row), row.integrity)) return;
      await onFailure({ kind: 'provider', id: row.id, provider: row.name });
      throw new ProviderIntegrityFailed(row.name);
    },
    async verifyClient(row: ProviderClientRow, providerName: string): Promise<void> {
      if (matches(providerClientMac(keyring, row), row.integrity)) return;
      await onFailure({ kind: 'provider_client', id: row.id, provider: providerName });
      throw new ProviderIntegrityFailed(`${providerName}/${row.id}`, 'provider client');
    },
  };
}

export type IntegrityChecker = ReturnType<typeof integrityChecker>;
