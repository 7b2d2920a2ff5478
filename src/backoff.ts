/**
 * Exponential backoff with jitter, shared by token refresh retries and webhook
 * deliveries. The random half keeps many replicas (or many connections that
 * failed together during one outage) from retrying in lockstep.
 */
export interface BackoffPolicy {
  baseSeconds: number;
  maxSeconds: number;
}

export function backoffSeconds(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(exp / 2 + (random() * exp) / 2));
}
