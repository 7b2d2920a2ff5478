import type { Connection, GrantType } from '../connections/index.js';
import type { Provider } from '../providers/index.js';
import type { ConnectInput, OAuthDeps } from './deps.js';
import { Conflict } from '../errors.js';

/** Statuses from which a connection may be authorized again under its name. */
const RECONNECTABLE = new Set(['pending', 'error', 'needs_reauth', 'revoked']);

/**
 * A `pending` connection of this provider and environment that never held a
 * grant: the only kind a new-connection link may pick up again under its name.
 * (An operator's `connect` may set a broken one back to `pending`, tokens kept.)
 */
export function unfinishedAttempt(existing: Connection, provider: Provider, environment: string | undefined): boolean {
  return existing.providerId === provider.id && existing.status === 'pending' && existing.sealedTokens === null && existing.environment === (environment ?? 'default');
}

/**
 * The connection a consent flow will complete: a new `pending` one, or an
 * existing connection of the same provider that is not active (reconnect), so
 * an abandoned or failed attempt can simply be retried under the same name.
 */
export async function pendingConnection(
  deps: Pick<OAuthDeps, 'connections'>,
  provider: Provider,
  input: ConnectInput,
  grantType: GrantType,
  pendingOnly = false,
): Promise<Connection> {
  if (input.name !== undefined) {
    const existing = await deps.connections.find(input.name);
    if (pendingOnly && existing !== undefined) {
      // A link for a new connection never takes over one that holds (or held) a grant, nor one of another environment:
      // only an unfinished attempt under the same name is picked up again. Reconnecting is a reconnect link's job.
      if (!unfinishedAttempt(existing, provider, input.environment)) throw new Conflict(`connection "${input.name}" already exists; a reconnect link ({"connection": "${input.name}"}) repairs it`);
      return existing;
    }
    if (existing !== undefined && existing.providerId === provider.id && RECONNECTABLE.has(existing.status)) {
      if (existing.status !== 'error') return existing;
      await deps.connections.setStatus(existing.id, 'pending', null);
      return deps.connections.get(existing.id);
    }
  }
  return deps.connections.create({
    ...(input.name === undefined ? {} : { name: input.name }),
    provider,
    subject: input.subject ?? null,
    ...(input.environment === undefined ? {} : { environment: input.environment }),
    grantType,
    status: 'pending',
    scopes: [],
  });
}
