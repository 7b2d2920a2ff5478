import { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { checkResourceAllowed } from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { InvalidRequest, LatchkeyError, UpstreamError } from '../errors.js';
import { addressRefusal } from '../net/index.js';
import { checkEndpointUrl, type DiscoveredMetadata } from '../providers/index.js';

/** What RFC 9728 discovery found about an upstream MCP server. */
export interface ProtectedResource {
  /** The `resource` of the metadata, sent verbatim as the RFC 8707 resource indicator. */
  resource: string;
  authorizationServer: string;
  scopes: string[];
  metadataUrl: string;
}

/** How Latchkey became the authorization server's client. */
export interface ClientRegistration {
  registration: 'cimd' | 'dcr' | 'manual';
  clientId: string;
  clientSecret?: string;
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'latchkey', version: '0.1.0' } },
};

/**
 * RFC 9728 as the MCP authorization spec asks: an unauthenticated request
 * first (its 401 names the metadata in WWW-Authenticate `resource_metadata`),
 * else the well-known URLs (path-aware, then the root).
 */
export async function discoverProtectedResource(serverUrl: URL, fetchFn: FetchLike, allowHttpLoopback: boolean): Promise<ProtectedResource> {
  let metadataUrl: URL | undefined;
  let challengeScope: string | undefined;
  try {
    const probe = await fetchFn(serverUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(INITIALIZE),
    });
    await probe.body?.cancel().catch(() => undefined);
    if (probe.status === 401) {
      const params = extractWWWAuthenticateParams(probe);
      metadataUrl = params.resourceMetadataUrl;
      challengeScope = params.scope;
    }
  } catch (err) {
    throw unreachable(serverUrl, err);
  }
  if (metadataUrl !== undefined) checkEndpointUrl('resource_metadata', metadataUrl.href, allowHttpLoopback);
  let metadata;
  try {
    metadata = await discoverOAuthProtectedResourceMetadata(serverUrl, metadataUrl === undefined ? {} : { resourceMetadataUrl: metadataUrl }, fetchFn);
  } catch (err) {
    const refused = addressRefusal(err);
    if (refused !== undefined) throw refused;
    throw new InvalidRequest(
      `the MCP server at ${serverUrl.href} publishes no OAuth protected resource metadata (RFC 9728): ${describe(err)}`,
      { cause: err },
    );
  }
  // RFC 9728 §3.3: the metadata must be about this server, or a client could be sent to another resource's AS.
  let resource: URL;
  try {
    resource = new URL(metadata.resource);
  } catch {
    throw new InvalidRequest('the protected resource metadata has no valid resource');
  }
  if (!checkResourceAllowed({ requestedResource: serverUrl, configuredResource: resource })) {
    throw new InvalidRequest(`the protected resource metadata names ${resource.href}, which does not cover ${serverUrl.href}`);
  }
  const authorizationServer = metadata.authorization_servers?.[0];
  if (authorizationServer === undefined) throw new InvalidRequest('the protected resource metadata names no authorization server');
  checkEndpointUrl('authorization_servers[0]', authorizationServer, allowHttpLoopback);
  const scopes = challengeScope?.split(' ').filter(Boolean) ?? metadata.scopes_supported ?? [];
  return {
    resource: metadata.resource,
    authorizationServer,
    scopes,
    metadataUrl: (metadataUrl ?? wellKnown(serverUrl)).href,
  };
}

function wellKnown(serverUrl: URL): URL {
  const path = serverUrl.pathname === '/' ? '' : serverUrl.pathname.replace(/\/+$/, '');
  return new URL(`/.well-known/oauth-protected-resource${path}`, serverUrl.origin);
}

export interface RegistrationInput {
  /** Latchkey's own Client ID Metadata Document URL, when the public URL is https. */
  clientMetadataUrl: string | undefined;
  redirectUri: string;
  scopes: string[];
  clientId?: string;
  clientSecret?: string;
}

/**
 * The client Latchkey uses at the upstream's AS: a client id given by the
 * operator wins (they registered it on purpose), else a Client ID Metadata
 * Document when the AS takes one and the public URL is https, else RFC 7591
 * dynamic registration, else a 400 saying what to do.
 */
export async function registerClient(as: DiscoveredMetadata, input: RegistrationInput, fetchFn: FetchLike): Promise<ClientRegistration> {
  if (input.clientId !== undefined) {
    return {
      registration: 'manual',
      clientId: input.clientId,
      ...(input.clientSecret === undefined ? {} : { clientSecret: input.clientSecret }),
      tokenEndpointAuthMethod: input.clientSecret === undefined ? 'none' : pickSecretMethod(as),
    };
  }
  if (as.clientIdMetadataDocumentSupported && input.clientMetadataUrl !== undefined) {
    return { registration: 'cimd', clientId: input.clientMetadataUrl, tokenEndpointAuthMethod: 'none' };
  }
  if (as.registrationEndpoint !== undefined) return dynamicRegistration(as, as.registrationEndpoint, input, fetchFn);
  if (as.registrationEndpointRefused !== undefined) {
    throw new InvalidRequest(
      `the authorization server ${as.issuer} offers dynamic client registration, but ${as.registrationEndpointRefused}: ` +
        `register a client there with the redirect URI ${input.redirectUri} and give its clientId (and clientSecret)`,
    );
  }
  throw new InvalidRequest(
    `the authorization server ${as.issuer} offers neither Client ID Metadata Documents (or Latchkey's public URL is not https) nor dynamic client registration: ` +
      'register a client there with the redirect URI ' +
      `${input.redirectUri} and give its clientId (and clientSecret)`,
  );
}

function pickSecretMethod(as: DiscoveredMetadata): 'client_secret_basic' | 'client_secret_post' {
  const methods = as.tokenEndpointAuthMethods;
  return methods !== undefined && !methods.includes('client_secret_basic') && methods.includes('client_secret_post') ? 'client_secret_post' : 'client_secret_basic';
}

async function dynamicRegistration(as: DiscoveredMetadata, endpoint: string, input: RegistrationInput, fetchFn: FetchLike): Promise<ClientRegistration> {
  const method = pickSecretMethod(as);
  // Only scopes the AS lists: resource scopes (RFC 8707) are often not registration scopes, and an unknown one fails it.
  const scopes = as.scopesSupported === undefined ? input.scopes : input.scopes.filter((s) => as.scopesSupported?.includes(s));
  const body = {
    client_name: 'Latchkey',
    redirect_uris: [input.redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: method,
    ...(scopes.length === 0 ? {} : { scope: scopes.join(' ') }),
  };
  let response: Response;
  try {
    response = await fetchFn(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw unreachable(new URL(endpoint), err);
  }
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null) parsed = value as Record<string, unknown>;
  } catch {
    // not JSON: reported below
  }
  if (response.status !== 201 && response.status !== 200) {
    const reason = typeof parsed.error === 'string' ? `${parsed.error}${typeof parsed.error_description === 'string' ? `: ${parsed.error_description}` : ''}` : `HTTP ${response.status}`;
    throw new UpstreamError(`dynamic client registration at ${as.issuer} failed (${reason.slice(0, 300)})`);
  }
  const clientId = parsed.client_id;
  if (typeof clientId !== 'string' || clientId === '' || clientId.length > 1000) {
    throw new UpstreamError(`dynamic client registration at ${as.issuer} answered without a client_id`);
  }
  const secret = typeof parsed.client_secret === 'string' && parsed.client_secret !== '' ? parsed.client_secret : undefined;
  const granted = parsed.token_endpoint_auth_method;
  const authMethod = secret === undefined ? 'none' : granted === 'client_secret_post' ? 'client_secret_post' : granted === 'client_secret_basic' ? 'client_secret_basic' : method;
  return { registration: 'dcr', clientId, ...(secret === undefined ? {} : { clientSecret: secret }), tokenEndpointAuthMethod: authMethod };
}

function unreachable(url: URL, err: unknown): LatchkeyError {
  const refused = addressRefusal(err);
  if (refused !== undefined) return refused;
  if (err instanceof LatchkeyError) return err;
  return new UpstreamError(`${url.origin} could not be reached: ${describe(err)}`, { cause: err });
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return 'no answer';
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`.slice(0, 300);
}
