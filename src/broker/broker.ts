import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { AuthenticatedAgent } from '../agents/index.js';
import { agentActorOf, isAllowed, mayUseConnection, proposalsUrlOf, readCache, type AccessRequest } from '../agents/index.js';
import type { Actor, AuditLog } from '../audit/index.js';
import type { Clock } from '../clock.js';
import type { Connection, ConnectionRegistry } from '../connections/index.js';
import { LatchkeyError, PolicyDenied, NotFound, isLatchkeyError } from '../errors.js';
import { newId } from '../ids.js';
import { hostKey, type Provider, type ProviderRegistry } from '../providers/index.js';
import { authorizationOf, type AccessGrant, type TokenService } from '../tokens/index.js';
import { Forwarder, type UpstreamRequest } from './forward.js';
import { upstreamRequestHeaders, type HeaderMap } from './headers.js';
import type { LinkBases } from './links.js';
import { scannableAcceptEncoding } from './redact-encoding.js';
import { relayResponse, type Relayed } from './relay.js';
import { allowedHostsFor, apiBaseHost, checkScheme, resolveBase, type Target } from './target.js';

export interface BrokerDeps {
  connections: ConnectionRegistry;
  providers: ProviderRegistry;
  tokens: TokenService;
  audit: AuditLog;
  clock: Clock;
  forwarder: Forwarder;
  allowHttpLoopback: boolean;
  /** Latchkey's external origin (LATCHKEY_PUBLIC_URL): upstream pagination links are rewritten to it. */
  publicUrl?: () => string;
}

/** A brokered response, streamed back to the agent. */
export interface BrokeredResponse {
  status: number;
  headers: HeaderMap;
  body: Readable;
}

export const agentActor = (agent: AuthenticatedAgent): Actor => agentActorOf(agent);

/** Everything both the proxy and invoke do once the target is known. */
export interface Exchange {
  agent: AuthenticatedAgent;
  connection: Connection;
  provider: Provider;
  target: Target;
  method: string;
  headers: IncomingHttpHeaders | Record<string, string>;
  body: Buffer | Readable | undefined;
  contentLength?: number | undefined;
  /** `proxy.request` or `invoke` */
  action: 'proxy.request' | 'invoke';
  capability?: string;
  stripAuthHeaders: boolean;
  /** The proxy URL of this connection (built only when needed): `Link` headers under the API base are rewritten to it. */
  proxyBase?: () => string;
}

const TOUCH_INTERVAL_MS = 60_000;

export function createBroker(deps: BrokerDeps) {
  const { audit, clock } = deps;
  const lastTouched = new Map<string, number>();
  const instance = newId('req').slice(4, 12);
  let requests = 0;
  const connectionsByName = readCache((name: string) => deps.connections.find(name));
  const providers = readCache((id: string) => deps.providers.getById(id));
  const providerById = (id: string): Promise<Provider> => providers.get(id);

  /** The connection as this agent may see it: another environment's connections do not exist for it. */
  async function visibleConnection(agent: AuthenticatedAgent, name: string): Promise<Connection> {
    const connection = await connectionsByName.get(name);
    if (connection === undefined || connection.environment !== agent.environment) {
      throw new NotFound(`connection "${name}" does not exist`);
    }
    return connection;
  }

  /** Records a refusal (policy, target, unknown connection) as `auth.denied`, then rethrows it. */
  async function denied(agent: AuthenticatedAgent, connection: string, err: unknown, detail: Record<string, string>): Promise<never> {
    if (err instanceof LatchkeyError && ['forbidden', 'not_found', 'target_not_allowed', 'invalid_request', 'method_not_allowed'].includes(err.code)) {
      await audit.record({
        actor: agentActor(agent),
        action: 'auth.denied',
        connection,
        outcome: 'denied',
        detail: { reason: err.code, ...detail, ...(agent.mcpClient === undefined ? {} : { mcpClient: agent.mcpClient }) },
      });
    }
    throw err;
  }

  /** `connectionBase`: the connection's own API base, which capability paths are then relative to. */
  function checkPolicy(agent: AuthenticatedAgent, provider: Provider, connectionBase: string | null, request: AccessRequest): void {
    const baseHost = provider.apiBaseUrl === null && connectionBase === null ? request.host : apiBaseHost(provider, connectionBase);
    if (!isAllowed(agent.policy, request, provider.capabilities, baseHost)) {
      throw new PolicyDenied(
        `agent "${agent.name}" may not ${request.method} ${request.path} on connection "${request.connection}"`,
        proposalsUrlOf(deps.publicUrl?.() ?? ''),
      );
    }
  }

  function touch(connection: Connection): void {
    const now = clock.now().getTime();
    if (now - (lastTouched.get(connection.id) ?? 0) < TOUCH_INTERVAL_MS) return;
    lastTouched.set(connection.id, now);
    deps.connections.touch(connection.id).catch(() => lastTouched.delete(connection.id));
  }

  /**
   * Audits the attempt (fail-closed: nothing goes upstream unless that write
   * succeeded), injects a valid token, forwards, retries once after a 401
   * with a refreshed token when the body can be replayed, and audits the outcome.
   */
  async function exchange(x: Exchange): Promise<BrokeredResponse> {
    const actor = agentActor(x.agent);
    // Ties the `.begin` event to its outcome; unique per process (the chain id says which process).
    const requestId = `${instance}-${(requests += 1)}`;
    const where = { method: x.method, host: x.target.host, path: x.target.upstreamPath, requestId };
    const viaMcp = x.agent.mcpClient === undefined ? where : { ...where, mcpClient: x.agent.mcpClient };
    const described = x.capability === undefined ? viaMcp : { ...viaMcp, capability: x.capability };
    await audit.record({ actor, action: `${x.action}.begin`, connection: x.connection.name, outcome: 'success', detail: described });
    const started = performance.now();
    const finish = async (status: number | null, error?: string, redacted = false): Promise<void> => {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      const detail = error === undefined ? { ...described, durationMs } : { ...described, durationMs, error };
      await audit.record({
        actor,
        action: x.action,
        connection: x.connection.name,
        outcome: error === undefined && status !== null && status < 500 ? 'success' : 'failure',
        status,
        detail: redacted ? { ...detail, redacted: true } : detail,
      });
    };

    const pathAndQuery = x.target.query === '' ? x.target.upstreamPath : `${x.target.upstreamPath}?${x.target.query}`;
    // Every provider token this exchange holds: none of their forms may reach the agent.
    const secrets: string[] = [];
    const send = (grant: AccessGrant) => {
      secrets.push(grant.accessToken, ...(grant.otherTokens ?? []));
      const headers = upstreamRequestHeaders(x.headers, authorizationOf(grant));
      // Only codings Latchkey can decode, so that every body can be scanned.
      const acceptEncoding = scannableAcceptEncoding(headers['accept-encoding']);
      if (acceptEncoding !== undefined) headers['accept-encoding'] = acceptEncoding;
      const request: UpstreamRequest = {
        origin: x.target.origin,
        path: pathAndQuery,
        method: x.method,
        headers,
        body: x.body,
        contentLength: x.contentLength,
      };
      return deps.forwarder.send(request);
    };

    let response;
    let relayed: Relayed;
    try {
      let grant = await deps.tokens.getValidToken(x.connection);
      response = await send(grant);
      const replayable = x.body === undefined || Buffer.isBuffer(x.body);
      if (response.statusCode === 401 && replayable) {
        const rejected = response;
        // Held unread while we decide: within the refresh cooldown this 401 goes back as it is.
        rejected.body.on('error', () => undefined);
        const replacement = await deps.tokens.reportUnauthorized(x.connection, grant.accessToken).catch((err: unknown) => {
          rejected.body.destroy();
          throw err;
        });
        if (replacement !== undefined) {
          await rejected.body.dump();
          grant = replacement;
          // The cached row still holds the rejected token.
          connectionsByName.delete(x.connection.name);
          await audit.record({
            actor,
            action: 'connection.refresh',
            connection: x.connection.name,
            outcome: 'success',
            detail: { reason: 'upstream_401', requestId },
          });
          response = await send(grant);
        }
      }
      try {
        relayed = relayResponse(response, {
          method: x.method,
          secrets,
          stripAuth: x.stripAuthHeaders,
          relaySetCookie: x.provider.quirks.relaySetCookie === true,
          links: () => linkBases(x),
          onBodyRedacted: () => bodyRedacted(x, actor, requestId),
        });
      } catch (err) {
        response.body.on('error', () => undefined).destroy();
        throw err;
      }
      // The redacting body reads the upstream at once; until the shell pipes it, an upstream reset must not be an
      // uncaught 'error' (the shell sees `destroyed` and answers 502).
      relayed.body.on('error', () => undefined);
    } catch (err) {
      await finish(isLatchkeyError(err) ? null : 500, isLatchkeyError(err) ? err.code : 'internal_error');
      throw err;
    }
    try {
      await finish(response.statusCode, undefined, relayed.headersRedacted);
    } catch (err) {
      // undici's body emits an error when destroyed unread: without a listener it would end the process.
      relayed.body.on('error', () => undefined).destroy();
      throw err;
    }
    touch(x.connection);
    relayed.headers['latchkey-connection'] = x.connection.name;
    return { status: relayed.status, headers: relayed.headers, body: relayed.body };
  }

  /** Where this exchange's upstream links may point, and the proxy URL links under its base become. */
  function linkBases(x: Exchange): LinkBases {
    const { origin, upstreamPath, path, query } = x.target;
    const hosts = allowedHostsFor(x.provider, x.connection.apiBaseUrl);
    return {
      requestUrl: `${origin}${upstreamPath}${query === '' ? '' : `?${query}`}`,
      upstreamOrigin: origin,
      upstreamBasePath: upstreamPath.slice(0, upstreamPath.length - path.length),
      proxyBase: x.proxyBase?.(),
      allowed: (url) => {
        if (!hosts.has(hostKey(url))) return false;
        try {
          checkScheme(url, deps.allowHttpLoopback);
          return true;
        } catch {
          return false;
        }
      },
    };
  }

  /**
   * The outcome event is written before the body streams (the first byte is
   * not held back for a whole-body scan), so a token found in the body is
   * recorded by a follow-up event tied to it by requestId. The rest of the
   * body waits for that event, and fails if it cannot be written (fail-closed, like every audit).
   */
  async function bodyRedacted(x: Exchange, actor: Actor, requestId: string): Promise<void> {
    await audit.record({ actor, action: `${x.action}.redacted`, connection: x.connection.name, outcome: 'success', detail: { requestId, where: 'body' } });
  }

  return { visibleConnection, providerById, denied, checkPolicy, exchange, mayUseConnection };
}

export type Broker = ReturnType<typeof createBroker>;

export { resolveBase };
