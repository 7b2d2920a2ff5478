import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../clock.js';
import { AuthFailureLimit, sourceOf } from '../auth-limit.js';

/** Client registrations one source may make in an hour (dynamic registration is open by design). */
export const MCP_REGISTRATIONS_PER_HOUR = 20;
/** Authorization requests one source may make per window: each may leave an Interaction row for 10 minutes. */
export const MCP_AUTHORIZATIONS_PER_WINDOW = 60;
export const MCP_AUTHORIZATION_WINDOW_SECONDS = 600;
/** Longest authorization request (its query): its parameters are stored whole in the Interaction row. */
export const MCP_AUTHORIZATION_REQUEST_MAX_CHARS = 8192;

/**
 * oidc-provider's route names that start an authorization, so store an Interaction (or a pushed request). Its
 * resume (/auth/:uid) is not counted: only the browser holding a decided interaction's cookie gets anywhere there.
 */
const AUTHORIZATION_ROUTES = new Set(['authorization', 'pushed_authorization_request']);
/** Models an unauthenticated request can make oidc-provider write. */
const ADMITTED_MODELS = new Set(['Client', 'Interaction', 'PushedAuthorizationRequest']);

/** The part of oidc-provider's Koa context this module reads and answers with. */
export interface ProviderContext {
  querystring: string;
  req: IncomingMessage;
  res: ServerResponse;
  status: number;
  body: unknown;
  type: string;
  set(field: string, value: string): void;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export interface Admission {
  /** For `provider.use`: counts and refuses requests by the route oidc-provider's router matched. */
  middleware(ctx: ProviderContext, next: () => Promise<void>): Promise<void>;
  /**
   * Whether oidc-provider may store `model` for the request it is handling (`ctx`, its Provider.ctx), or outside
   * one (`inRequest` false: e.g. the consent route). Fails closed: a request that reached a registration or
   * authorization without passing the middleware (a router this module no longer understands), or whose context
   * oidc-provider no longer exposes, stores nothing.
   */
  mayStore(model: string, ctx: object | undefined, inRequest: boolean): boolean;
}

/**
 * Per-source limits on what unauthenticated requests to /mcp-oauth may make
 * the authorization server store. The decision is taken on the route
 * oidc-provider's own router matched, not on the URL: the router folds case
 * and drops a trailing slash, so `/REG/` is the registration endpoint too.
 * The router names the route (ctx._matchedRouteName, which oidc-provider's
 * OIDCContext reads as `route`) just before running it; this module sees that
 * assignment and refuses there, before any of the route's middleware runs.
 * In memory, per replica, like the other per-address limits.
 */
export function admission(deps: { clock: Clock; trustProxy: boolean }): Admission {
  const registrations = new AuthFailureLimit(deps.clock, { limit: MCP_REGISTRATIONS_PER_HOUR, windowSeconds: 3600 });
  const authorizations = new AuthFailureLimit(deps.clock, { limit: MCP_AUTHORIZATIONS_PER_WINDOW, windowSeconds: MCP_AUTHORIZATION_WINDOW_SECONDS });
  const admitted = new WeakSet<object>();

  function count(limit: AuthFailureLimit, source: string, what: string): void {
    const wait = limit.blockedFor(source);
    if (wait > 0) throw new Refusal(429, 'rate_limited', `too many ${what} from this address; try again in ${wait} s`, wait);
    limit.fail(source);
  }

  function admit(ctx: ProviderContext, route: string): void {
    if (route === 'registration') count(registrations, sourceOf(ctx.req, deps.trustProxy), 'client registrations');
    else if (AUTHORIZATION_ROUTES.has(route)) {
      // Only GET is routed (enableHttpPostMethods is off), so the query is the whole request.
      if (ctx.querystring.length > MCP_AUTHORIZATION_REQUEST_MAX_CHARS) {
        throw new Refusal(400, 'invalid_request', `an authorization request may be at most ${MCP_AUTHORIZATION_REQUEST_MAX_CHARS} characters long`);
      }
      count(authorizations, sourceOf(ctx.req, deps.trustProxy), 'authorization requests');
    }
    admitted.add(ctx);
  }

  return {
    async middleware(ctx, next) {
      let route: string | undefined;
      Object.defineProperty(ctx, '_matchedRouteName', {
        configurable: true,
        enumerable: true,
        get: () => route,
        set: (name: string) => {
          route = name;
          admit(ctx, name);
        },
      });
      try {
        await next();
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        // The body (if any) is left unread: the connection is not reused.
        ctx.res.shouldKeepAlive = false;
        ctx.req.resume();
        ctx.status = err.status;
        if (err.retryAfter !== undefined) ctx.set('retry-after', String(err.retryAfter));
        ctx.set('cache-control', 'no-store');
        ctx.type = 'application/json; charset=utf-8';
        ctx.body = JSON.stringify({ error: err.error, message: err.message });
      }
    },
    mayStore(model, ctx, inRequest) {
      if (!ADMITTED_MODELS.has(model)) return true;
      return ctx === undefined ? !inRequest : admitted.has(ctx);
    },
  };
}
