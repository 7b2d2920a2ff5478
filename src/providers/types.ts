/** A named allow-list on a provider's API, e.g. spotify/playlists. */
export interface Capability {
  name: string;
  description: string;
  /** Allowed HTTP methods; the first is the default for invoke. */
  methods: string[];
  /** Allowed path prefixes (after normalisation); the first is the default for invoke. */
  pathPrefixes: string[];
  /** Allowed hosts (host or host:port); defaults to the API base URL's host. */
  hosts?: string[];
}

/**
 * Known ways a provider departs from RFC 6749, written down as data so that
 * flow code never asks "is this GitHub?".
 */
export interface ProviderQuirks {
  /** The token endpoint may answer 200 with an `error` member (GitHub). */
  errorInSuccessfulTokenResponse?: boolean;
  /** Separator the provider uses for `scope` in token responses ("," for GitHub, Slack). */
  tokenScopeSeparator?: string;
  /** Separator to use when sending `scope` on the authorization request (default " "). */
  authorizeScopeSeparator?: string;
  /**
   * Lifetime to assume when a token response has no `expires_in`: a number of
   * seconds, or null when such tokens do not expire (GitHub OAuth apps).
   */
  defaultExpiresIn?: number | null;
  /** Refresh tokens are single-use and a new one comes with every refresh (Xero, QuickBooks, X). */
  rotatesRefreshTokens?: boolean;
  /** The token endpoint needs `Accept: application/json` to answer JSON (GitHub). */
  tokenRequestAcceptJson?: boolean;
  /** Dotted path of the user token inside a nested token response (Slack user tokens: "authed_user"). */
  tokenResponseRoot?: string;
  /** Extra parameters the token endpoint wants on every request (e.g. Notion has none; kept generic). */
  tokenParams?: Record<string, string>;
  /** Refresh token lifetime in seconds when the provider documents it but does not send it. */
  refreshTokenLifetime?: number;
  /** Authorization request parameter that carries the scopes (default "scope"; Slack user tokens: "user_scope"). */
  authorizeScopeParam?: string;
  /** Endpoint for refresh_token grants when it differs from tokenEndpoint (Figma: /v1/oauth/refresh). */
  refreshEndpoint?: string;
  /** Token response member holding the per-connection API base URL, which replaces apiBaseUrl (Salesforce: "instance_url"). */
  instanceUrlField?: string;
  /**
   * The deployment relays the OAuth callback server-side (no browser reaches
   * Latchkey's start page), so the request is not bound to a browser cookie.
   * An operator's choice, audited when set; off by default.
   */
  unboundCallback?: boolean;
  /** Provider-specific `token_type` spellings of a Bearer token (Slack: "user", "bot"); any other unknown type is refused. */
  tokenTypeAliases?: Record<string, 'bearer'>;
  /** The token endpoint leaves `token_type` out although RFC 6749 requires it; its tokens are of this type. */
  defaultTokenType?: 'bearer';
  /** The proxy relays the API's Set-Cookie headers to agents (default: stripped; token forms are masked either way). */
  relaySetCookie?: boolean;
  /** Free-text notes for people reading the catalogue. */
  notes?: string;
}

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/** A built-in provider template. Every URL is the provider's real, documented one. */
export interface Preset {
  name: string;
  displayName: string;
  /** OIDC/RFC 8414 issuer when the provider publishes metadata. */
  issuer?: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  userinfoEndpoint?: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** Default scopes requested on connect. */
  scopes: string[];
  /** Whether the provider accepts PKCE (Latchkey always sends S256 where it does). */
  pkce: boolean;
  /** Extra authorization request parameters (e.g. Google's access_type=offline). */
  authorizeParams?: Record<string, string>;
  apiBaseUrl: string;
  /** Hosts a token may be sent to, besides the API base URL's origin. */
  allowedHosts: string[];
  capabilities: Capability[];
  quirks: ProviderQuirks;
  /** Where the provider documents its OAuth endpoints. */
  docsUrl: string;
}
