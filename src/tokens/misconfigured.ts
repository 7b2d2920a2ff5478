import { misconfiguredError, reportClientRejected } from '../oauth/index.js';
import { providerHealth, type Provider } from '../providers/index.js';
import type { ConnectionRow } from '../store/index.js';
import type { TokenEndpointFailure } from './classify.js';
import { classifyTokenEndpointError } from './classify.js';
import { isUnexpired } from './expiry.js';
import type { RefreshContext, Want } from './refresh.js';
import { clientCheck } from './token-endpoint.js';
import type { TokenSet } from './vault.js';

function servesCurrent(want: Want, row: ConnectionRow, tokens: TokenSet, now: Date): boolean {
  return (want.kind === 'fresh' || want.kind === 'ahead') && isUnexpired(tokens, row.expiresAt, now);
}

/**
 * Before a refresh: while the provider is marked misconfigured nobody calls its
 * token endpoint (the periodic check does). True: serve the still-valid token;
 * else throws 503 provider_misconfigured. False: go on (not marked, or an
 * operator's forced refresh, which still tries).
 */
export async function misconfiguredGate(ctx: RefreshContext, row: ConnectionRow, tokens: TokenSet, want: Want): Promise<boolean> {
  if (want.kind === 'newer') return false;
  const fault = await providerHealth(ctx).find(row.providerId);
  if (fault === undefined) return false;
  const now = ctx.clock.now();
  if (servesCurrent(want, row, tokens, now)) return true;
  throw misconfiguredError(await ctx.providers.getById(row.providerId), fault, now);
}

/**
 * The token endpoint refused the client during a refresh: the provider is
 * marked, the connection keeps its status, tokens and failure count (the
 * client was refused before the refresh token was looked at). Returns when
 * the still-valid token may be served, else throws 503 provider_misconfigured.
 */
export async function clientRefused(
  ctx: RefreshContext,
  row: ConnectionRow,
  tokens: TokenSet,
  owner: string,
  provider: Provider,
  want: Want,
  failure: Extract<TokenEndpointFailure, { kind: 'client_rejected' }>,
): Promise<void> {
  const clientCredentials = row.grantType === 'client_credentials';
  const error =
    failure.reported ??
    (await reportClientRejected(
      ctx,
      provider,
      failure.rejection ?? { error: 'invalid_client', description: failure.description },
      clientCredentials ? 'the client credentials grant' : 'a refresh',
      clientCredentials ? 'client_credentials' : 'refresh_token',
    ));
  await ctx.store.connections.releaseClaimUnused(row.id, owner);
  if (!servesCurrent(want, row, tokens, ctx.clock.now())) throw error;
}

/**
 * The periodic check of misconfigured providers (one replica per provider at a
 * time): clears the mark once the token endpoint accepts the client again,
 * else backs off further. Returns how many providers it cleared.
 */
export async function checkMisconfiguredProviders(ctx: RefreshContext): Promise<number> {
  const health = providerHealth(ctx);
  const now = ctx.clock.now().toISOString();
  let cleared = 0;
  for (const fault of (await health.list()).values()) {
    if (fault.nextCheckAt > now || !(await health.claimCheck(fault))) continue;
    const provider = await ctx.providers.getById(fault.providerId).catch(() => undefined);
    if (provider === undefined) {
      await health.clear(fault.providerId);
      continue;
    }
    try {
      await clientCheck(provider, fault.grantType, {
        clientSecret: await ctx.providers.clientSecretOf(provider),
        allowHttpLoopback: ctx.settings.allowHttpLoopback,
        timeoutSeconds: ctx.settings.tokenTimeoutSeconds,
        fetch: ctx.settings.fetch,
      });
    } catch (err) {
      const failure = classifyTokenEndpointError(err);
      const reason = failure.kind === 'client_rejected' ? `the token endpoint still refuses the client: ${failure.description}` : fault.reason;
      const next = await health.stillRefused(fault, reason);
      ctx.logger.warn({ provider: provider.name, reason: failure.description, nextCheckAt: next.nextCheckAt }, 'provider still refuses the client');
      continue;
    }
    if (await health.clear(fault.providerId)) cleared += 1;
    ctx.logger.info({ provider: provider.name }, "the provider accepts Latchkey's client again");
  }
  return cleared;
}
