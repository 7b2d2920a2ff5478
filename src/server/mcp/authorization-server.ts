import { generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { NotFound } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { clientSecretFor, idHash, storeAdapter } from './adapter.js';
import { admission as createAdmission, type ProviderContext } from './admission.js';
import { inMcpOauthRequest, metadataDocuments, type MetadataDocuments } from './cimd.js';
import { loadOidcProvider, oidcProvider } from './oidc.js';

/** Where oidc-provider's endpoints are mounted; also the issuer's path. */
export const MCP_OAUTH_PREFIX = '/mcp-oauth';
export const MCP_PATH = '/mcp';
/** The one scope of the /mcp resource (Protected Resource Metadata `scopes_supported`). */
export const MCP_SCOPE = 'mcp';

export const mcpResource = (publicUrl: string): string => `${publicUrl.replace(/\/+$/, '')}${MCP_PATH}`;
export const mcpIssuer = (publicUrl: string): string => `${publicUrl.replace(/\/+$/, '')}${MCP_OAUTH_PREFIX}`;
export const consentPath = (uid: string): string => `/console/mcp/consent/${encodeURIComponent(uid)}`;

export interface McpTokenHolder {
  agentId: string;
  clientId: string;
  grantId: string;
}

export interface McpAuthorizationServer {
  /** Loads oidc-provider (once); `provider()` may be called after it resolved. */
  ready(): Promise<void>;
  /** The oidc-provider instance for the current public URL (built on first use: a port-0 server learns its URL late). */
  provider(): Provider;
  /** Serves a request under /mcp-oauth/ (the prefix still on req.url). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  documents: MetadataDocuments;
  /** The agent and client an access token was issued to, if it is live and was issued for the /mcp resource. */
  verifyAccessToken(token: string): Promise<McpTokenHolder | undefined>;
  /**
   * Claims the one decision on a pending authorization: true for the first caller only, on any replica (a
   * unique row next to the interaction, kept until it expires). `releaseDecision` gives the claim back when
   * the decision could not be stored.
   */
  claimDecision(uid: string, expiresAt: Date): Promise<boolean>;
  releaseDecision(uid: string): Promise<void>;
}

/** The model name of a consent decision's claim row (no oidc-provider model has it). */
const DECISION_MODEL = 'ConsentDecision';

/** Latchkey's own authorization server for /mcp: panva's oidc-provider, over Latchkey's store (docs/decisions.md says why). */
export function mcpAuthorizationServer(core: Latchkey): McpAuthorizationServer {
  const documents = metadataDocuments({ fetch: core.outbound.fetch, clock: core.clock, logger: core.logger, allowHttpLoopback: core.config.allowHttpLoopback });
  const clientSecretKey = core.keyring.deriveKey('latchkey mcp client secrets v1');
  const cookieKey = core.keyring.deriveKey('latchkey mcp cookies v1').toString('base64url');
  // Signs ID tokens only (access tokens are opaque): a key per process is enough, as no MCP client needs an ID token.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk: JsonWebKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'ES256' };
  // The id of the client a registration request is creating, so its secret can be derived from it.
  const registering = new WeakMap<object, string>();
  // Outlives a rebuild of the provider (a new public URL), so the per-address counts do too.
  const admission = createAdmission({ clock: core.clock, trustProxy: core.config.trustProxy });
  let built: { issuer: string; provider: Provider; handler: (req: IncomingMessage, res: ServerResponse) => void } | undefined;

  function build(): NonNullable<typeof built> {
    const issuer = mcpIssuer(core.config.publicUrl);
    if (built?.issuer === issuer) return built;
    const resource = mcpResource(core.config.publicUrl);
    const { default: ProviderClass, errors, interactionPolicy } = oidcProvider();
    const policy = interactionPolicy.base();
    // Every authorization asks an operator which agent the client acts as: an AS session left
    // in the browser by an earlier consent must not let another client in without one.
    policy.get('login')?.checks.add(
      new interactionPolicy.Check('operator_choice', 'an operator chooses the agent for each authorization', (ctx) =>
        ctx.oidc.result?.login === undefined ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT,
      ),
    );
    const provider = new ProviderClass(issuer, {
      adapter: (model: string) =>
        storeAdapter(model, {
          store: core.store.mcpOauth,
          clock: core.clock,
          clientSecretKey,
          metadataDocument: (id) => documents.resolve(id),
          mayStore: (model) => admission.mayStore(model, ProviderClass.ctx, inMcpOauthRequest()),
        }),
      clients: [],
      jwks: { keys: [jwk] },
      cookies: { keys: [cookieKey] },
      findAccount: async (_ctx: unknown, id: string) => {
        try {
          const agent = await core.agents.get(id);
          return { accountId: agent.id, claims: () => ({ sub: agent.id }) };
        } catch (err) {
          if (err instanceof NotFound) return undefined;
          throw err;
        }
      },
      interactions: { policy, url: (_ctx: unknown, interaction: { uid: string }) => consentPath(interaction.uid) },
      features: {
        devInteractions: { enabled: false },
        registration: {
          enabled: true,
          initialAccessToken: false,
          issueRegistrationAccessToken: false,
          idFactory: (ctx: object) => {
            const id = `mcp_${randomBytes(16).toString('base64url')}`;
            registering.set(ctx, id);
            return id;
          },
          secretFactory: (ctx: object) => clientSecretFor(clientSecretKey, registering.get(ctx) ?? ''),
        },
        revocation: { enabled: true },
        userinfo: { enabled: false },
        rpInitiatedLogout: { enabled: false },
        resourceIndicators: {
          enabled: true,
          // `resource` is required: a token is only ever minted for this server's /mcp.
          defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string | string[]) => {
            if (oneOf !== undefined) return oneOf;
            throw new errors.InvalidTarget(`the resource parameter is required (${resource})`);
          },
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, indicator: string) => {
            if (indicator !== resource) throw new errors.InvalidTarget(`this server issues tokens only for ${resource}`);
            return { scope: MCP_SCOPE, audience: resource, accessTokenTTL: core.config.mcpAccessTokenTtlSeconds, accessTokenFormat: 'opaque' };
          },
        },
      },
      scopes: ['openid', 'offline_access', MCP_SCOPE],
      claims: { openid: ['sub'] },
      responseTypes: ['code'],
      pkce: { required: () => true },
      clientDefaults: {
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        id_token_signed_response_alg: 'ES256',
      },
      enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
      issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed('refresh_token'),
      rotateRefreshToken: true,
      expiresWithSession: () => false,
      ttl: {
        AccessToken: core.config.mcpAccessTokenTtlSeconds,
        AuthorizationCode: 60,
        Grant: core.config.mcpRefreshTokenTtlSeconds,
        Interaction: 600,
        IdToken: 600,
        RefreshToken: core.config.mcpRefreshTokenTtlSeconds,
        Session: 600,
      },
      discovery: { client_id_metadata_document_supported: true },
      // Used by oidc-provider's own fetches (e.g. a client's jwks_uri): through the address guard too.
      fetch: (url: string, init: { method?: string; headers?: Headers; body?: string; signal?: AbortSignal; redirect?: 'manual' }) =>
        core.outbound.fetch(url, {
          ...(init.method === undefined ? {} : { method: init.method }),
          headers: Object.fromEntries(init.headers?.entries() ?? []),
          ...(init.body === undefined ? {} : { body: init.body }),
          ...(init.signal === undefined ? {} : { signal: init.signal }),
          redirect: 'manual',
        }),
      // Plain text: an error page must never render what a client sent as HTML.
      renderError: (ctx: { type: string; body: unknown }, out: Record<string, string>) => {
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = `${out.error ?? 'error'}: ${out.error_description ?? ''}\n`;
      },
      conformIdTokenClaims: true,
    });
    provider.proxy = core.config.trustProxy;
    provider.use((ctx, next) => admission.middleware(ctx as ProviderContext, next));
    provider.on('server_error', (_ctx: unknown, err: unknown) => core.logger.error({ err }, 'the MCP authorization server failed a request'));
    const callback = provider.callback();
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      const full = req.url ?? '/';
      // oidc-provider routes below its mount and finds the mount from originalUrl (as under Express).
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = full;
      req.url = full.slice(MCP_OAUTH_PREFIX.length) || '/';
      callback(req, res);
    };
    built = { issuer, provider, handler };
    return built;
  }

  return {
    ready: async () => {
      await loadOidcProvider();
    },
    provider: () => build().provider,
    handle: (req, res) => {
      loadOidcProvider().then(
        () => build().handler(req, res),
        (err: unknown) => {
          core.logger.error({ err }, 'the MCP authorization server could not be loaded');
          req.resume();
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end('{"error":"internal_error","message":"internal error"}');
        },
      );
    },
    documents,
    claimDecision: (uid, expiresAt) =>
      core.store.mcpOauth.insertOnce({
        model: DECISION_MODEL,
        idHash: idHash(uid),
        payload: '{}',
        grantHash: null,
        accountId: null,
        uidHash: null,
        userCodeHash: null,
        expiresAt: expiresAt.toISOString(),
        consumedAt: null,
      }),
    releaseDecision: (uid) => core.store.mcpOauth.destroy(DECISION_MODEL, idHash(uid)),
    async verifyAccessToken(token) {
      if (token.length > 512) return undefined;
      await loadOidcProvider();
      const provider = build().provider;
      const found = await provider.AccessToken.find(token);
      // Expiry is checked twice: the adapter stores it on Latchkey's clock (which tests move), oidc-provider on its own.
      if (found === undefined || found.isExpired) return undefined;
      const audiences = Array.isArray(found.aud) ? found.aud : found.aud === undefined ? [] : [found.aud];
      if (!audiences.includes(mcpResource(core.config.publicUrl))) return undefined;
      // Its grant is live and names this client and agent: the adapter reads the two together (adapter.ts).
      return { agentId: found.accountId, clientId: found.clientId, grantId: found.grantId };
    },
  };
}

