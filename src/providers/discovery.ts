import * as oidc from 'openid-client';
import { InvalidIssuer, InvalidRequest } from '../errors.js';
import { addressRefusal } from '../net/index.js';
import { checkEndpointUrl } from './urls.js';

/** The parts of RFC 8414 / OIDC discovery metadata Latchkey uses. */
export interface DiscoveredMetadata {
  issuer: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  revocationEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  userinfoEndpoint?: string;
  introspectionEndpoint?: string;
  scopesSupported?: string[];
  issParameterSupported: boolean;
  tokenEndpointAuthMethods?: string[];
  /** RFC 7591 dynamic client registration, when the server offers it at a URL Latchkey may send to (see below). */
  registrationEndpoint?: string;
  /**
   * Why the registration endpoint the server named was not taken (plain http to a
   * host that is not loopback, a special address…): registration would send the
   * redirect URI and receive a client secret there.
   */
  registrationEndpointRefused?: string;
  /** The server takes an https URL of a Client ID Metadata Document as client_id (the MCP authorization spec). */
  clientIdMetadataDocumentSupported: boolean;
}

const DISCOVERY_TIMEOUT_SECONDS = 10;

/**
 * Fetches OIDC discovery metadata, falling back to RFC 8414, through
 * openid-client (which also checks that the document's `issuer` matches).
 */
export async function discover(issuer: string, options: { allowHttp: boolean; fetch: oidc.CustomFetch }): Promise<DiscoveredMetadata> {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new InvalidRequest('issuer is not a valid URL');
  }
  const errors: unknown[] = [];
  for (const algorithm of ['oidc', 'oauth2'] as const) {
    try {
      const config = await oidc.discovery(url, 'latchkey-discovery', undefined, undefined, {
        algorithm,
        timeout: DISCOVERY_TIMEOUT_SECONDS,
        [oidc.customFetch]: options.fetch,
        ...(options.allowHttp ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
      return checkRegistrationEndpoint(fromServerMetadata(checkPkceSupport(config.serverMetadata(), issuer)), options.allowHttp);
    } catch (err) {
      if (err instanceof InvalidRequest) throw err;
      const refused = addressRefusal(err);
      if (refused !== undefined) throw refused;
      if (isIssuerMismatch(err)) {
        throw new InvalidIssuer(`the discovery document at ${url.origin} names a different issuer than ${issuer}`, {
          cause: err,
        });
      }
      errors.push(err);
    }
  }
  throw new InvalidRequest(`discovery for ${issuer} failed: ${describe(errors[0])}`, { cause: errors[0] });
}

/** A server that lists its PKCE methods must offer S256: `plain` alone protects nothing (RFC 9700 §2.1.1). */
function checkPkceSupport(m: oidc.ServerMetadata, issuer: string): oidc.ServerMetadata {
  const methods = m.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes('S256')) {
    throw new InvalidRequest(`the authorization server at ${issuer} does not support PKCE with S256 (it lists ${methods.map(String).join(', ') || 'no method'})`);
  }
  return m;
}

/**
 * The registration endpoint is held to the rule of every other endpoint
 * (checkEndpointUrl). A bad one is not an error of the discovery: only
 * dynamic registration uses it, and says why it cannot.
 */
function checkRegistrationEndpoint(m: DiscoveredMetadata, allowHttp: boolean): DiscoveredMetadata {
  if (m.registrationEndpoint === undefined) return m;
  try {
    return { ...m, registrationEndpoint: checkEndpointUrl('registration_endpoint', m.registrationEndpoint, allowHttp).href };
  } catch (err) {
    if (!(err instanceof InvalidRequest)) throw err;
    const { registrationEndpoint: _refused, ...rest } = m;
    return { ...rest, registrationEndpointRefused: `its ${err.message}` };
  }
}

function fromServerMetadata(m: oidc.ServerMetadata): DiscoveredMetadata {
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    issuer: m.issuer,
    authorizationEndpoint: str(m.authorization_endpoint),
    tokenEndpoint: str(m.token_endpoint),
    revocationEndpoint: str(m.revocation_endpoint),
    deviceAuthorizationEndpoint: str(m.device_authorization_endpoint),
    userinfoEndpoint: str(m.userinfo_endpoint),
    introspectionEndpoint: str(m.introspection_endpoint),
    scopesSupported: Array.isArray(m.scopes_supported) ? m.scopes_supported : undefined,
    issParameterSupported: m.authorization_response_iss_parameter_supported === true,
    tokenEndpointAuthMethods: Array.isArray(m.token_endpoint_auth_methods_supported)
      ? m.token_endpoint_auth_methods_supported
      : undefined,
    registrationEndpoint: str(m.registration_endpoint),
    clientIdMetadataDocumentSupported: m.client_id_metadata_document_supported === true,
  };
}

function isIssuerMismatch(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err as { code?: unknown }).code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' &&
    /issuer/i.test(err.message)
  );
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return 'no answer';
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`.slice(0, 300);
}
