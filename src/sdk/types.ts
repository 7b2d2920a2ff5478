/** Response shapes of the REST API, as the SDK returns them. */
export interface CapabilityView {
  name: string;
  description: string;
  methods: string[];
  pathPrefixes: string[];
  hosts?: string[];
}

export interface PresetView {
  name: string;
  displayName: string;
  issuer: string | null;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  scopes: string[];
  apiBaseUrl: string;
  allowedHosts: string[];
  capabilities: CapabilityView[];
}

export interface ProviderView {
  id: string;
  name: string;
  displayName: string;
  preset: string | null;
  issuer: string | null;
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
  revocationEndpoint: string | null;
  deviceAuthorizationEndpoint: string | null;
  clientId: string | null;
  hasClientSecret: boolean;
  tokenEndpointAuthMethod: string;
  scopes: string[];
  pkce: boolean;
  authorizeParams: Record<string, string>;
  apiBaseUrl: string | null;
  allowedHosts: string[];
  capabilities: CapabilityView[];
  createdAt: string;
  updatedAt: string;
}

export interface ProviderCreate {
  name: string;
  preset?: string;
  issuer?: string;
  displayName?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  revocationEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  clientId?: string;
  clientSecret?: string | null;
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'none';
  scopes?: string[];
  pkce?: boolean;
  authorizeParams?: Record<string, string>;
  apiBaseUrl?: string;
  allowedHosts?: string[];
  capabilities?: CapabilityView[];
}

export interface ConnectionView {
  id: string;
  name: string;
  provider: string;
  subject: string | null;
  environment: string;
  grantType: string;
  status: string;
  scopes: string[];
  expiresAt: string | null;
  refreshTokenExpiresAt: string | null;
  lastRefreshedAt: string | null;
  lastUsedAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  metadata: Record<string, unknown>;
}

export interface ConnectionImport {
  name?: string;
  provider: string;
  subject?: string;
  environment?: string;
  accessToken?: string;
  refreshToken?: string;
  idToken?: string;
  expiresAt?: string;
  scopes?: string[];
  tokenType?: string;
}

export interface ConnectionFilter {
  provider?: string;
  environment?: string;
  status?: string;
  subject?: string;
  /** seconds, or a duration such as "1h" */
  expiringWithin?: number | string;
}

export interface KeyRotation {
  newKeyId: string;
  resealed: number;
  retiredKeyIds: string[];
}
