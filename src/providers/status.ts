import { backoffSeconds, type BackoffPolicy } from '../backoff.js';
import type { Clock } from '../clock.js';
import type { ProviderStatusRow, Store } from '../store/index.js';
import type { Provider } from './registry.js';

/**
 * A provider whose token endpoint refused Latchkey's own client
 * (invalid_client, unauthorized_client): a configuration fault, kept on the
 * provider so its connections keep their grants and statuses.
 */
export type ProviderFault = Omit<ProviderStatusRow, 'status' | 'updatedAt'>;

/** How often a misconfigured provider is checked again (the shared backoff: 30 s, doubling, at most 15 min). */
export const PROVIDER_CHECK_BACKOFF: BackoffPolicy = { baseSeconds: 30, maxSeconds: 900 };

/** A check that started may take this long before another replica may start one. */
const CHECK_LEASE_SECONDS = 60;

/** The provider's status as the API shows it. */
export interface ProviderStatusView {
  status: 'ok' | 'misconfigured';
  statusReason: string | null;
  statusSince: string | null;
  nextCheckAt: string | null;
}

export function statusView(fault: ProviderFault | undefined): ProviderStatusView {
  if (fault === undefined) return { status: 'ok', statusReason: null, statusSince: null, nextCheckAt: null };
  return { status: 'misconfigured', statusReason: fault.reason, statusSince: fault.since, nextCheckAt: fault.nextCheckAt };
}

function fromRow(row: ProviderStatusRow): ProviderFault {
  const { status: _status, updatedAt: _updatedAt, ...fault } = row;
  return fault;
}

/** Marks, checks and clears misconfigured providers; all state is in the database, shared by replicas. */
export function providerHealth(deps: { store: Store; clock: Clock }) {
  const { store, clock } = deps;
  const at = (seconds: number): string => new Date(clock.now().getTime() + seconds * 1000).toISOString();

  return {
    async find(providerId: string): Promise<ProviderFault | undefined> {
      const row = await store.providerStatus.find(providerId);
      return row === undefined ? undefined : fromRow(row);
    },
    async list(): Promise<Map<string, ProviderFault>> {
      return new Map((await store.providerStatus.list()).map((r) => [r.providerId, fromRow(r)]));
    },
    /** `newly` is true for exactly one caller across replicas: the one that should tell someone. */
    async markMisconfigured(provider: Provider, fault: { reason: string; grantType: string }): Promise<{ fault: ProviderFault; newly: boolean }> {
      const now = clock.now().toISOString();
      const row: ProviderStatusRow = {
        providerId: provider.id,
        status: 'misconfigured',
        reason: fault.reason,
        clientId: provider.clientId,
        grantType: fault.grantType,
        since: now,
        checks: 0,
        nextCheckAt: at(backoffSeconds(1, PROVIDER_CHECK_BACKOFF)),
        updatedAt: now,
      };
      if (await store.providerStatus.mark(row)) return { fault: fromRow(row), newly: true };
      const existing = await store.providerStatus.find(provider.id);
      return { fault: fromRow(existing ?? row), newly: false };
    },
    /** True for the one caller that may check the provider now (its next check is due). */
    async claimCheck(fault: ProviderFault): Promise<boolean> {
      return store.providerStatus.claimCheck(fault.providerId, clock.now().toISOString(), at(CHECK_LEASE_SECONDS));
    },
    /** A check found the client still refused: back off further. */
    async stillRefused(fault: ProviderFault, reason: string): Promise<ProviderFault> {
      const checks = fault.checks + 1;
      const change = { reason, checks, nextCheckAt: at(backoffSeconds(checks + 1, PROVIDER_CHECK_BACKOFF)), updatedAt: clock.now().toISOString() };
      await store.providerStatus.reschedule(fault.providerId, change);
      return { ...fault, ...change };
    },
    /** The provider accepts the client again, or its client was changed. */
    async clear(providerId: string): Promise<boolean> {
      return store.providerStatus.clear(providerId);
    },
  };
}

export type ProviderHealth = ReturnType<typeof providerHealth>;
