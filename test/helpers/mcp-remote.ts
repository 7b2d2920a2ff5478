import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

/** A test's MCP host: an OAuthClientProvider that keeps everything in memory and hands the authorization URL to the test. */
export class TestOAuthProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  /** Sets the PKCE method the authorization URL asks for ('plain' to see it refused). */
  constructor(
    readonly redirect: string,
    readonly metadata: OAuthClientMetadata,
    preRegistered?: OAuthClientInformationMixed,
  ) {
    this.info = preRegistered;
  }
  get redirectUrl(): string {
    return this.redirect;
  }
  get clientMetadata(): OAuthClientMetadata {
    return this.metadata;
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.info = info;
  }
  tokens(): OAuthTokens | undefined {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    return this.verifier;
  }
}

/** A browser for the authorization step: keeps cookies, follows redirects by hand, and stops where told. */
export class CookieBrowser {
  readonly cookies = new Map<string, string>();
  async get(url: string): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: cookie === '' ? {} : { cookie } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = (pair ?? '').indexOf('=');
      if (eq > 0) this.cookies.set((pair as string).slice(0, eq).trim(), (pair as string).slice(eq + 1).trim());
    }
    return res;
  }
  /** Follows redirects from `url` until `stop` says so (or a non-redirect answer); returns the last URL and response. */
  async follow(url: string, stop: (u: URL) => boolean): Promise<{ url: URL; response: Response | undefined }> {
    let current = new URL(url);
    for (let i = 0; i < 10; i += 1) {
      if (stop(current)) return { url: current, response: undefined };
      const res = await this.get(current.href);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || location === null) return { url: current, response: res };
      await res.body?.cancel();
      current = new URL(location, current);
    }
    throw new Error('too many redirects');
  }
}

export function mcpClient(): Client {
  return new Client({ name: 'latchkey-remote-test', version: '1.0.0' });
}

/** Connects; a first connection without tokens ends in UnauthorizedError after the provider got its authorization URL. */
export async function connectExpectingAuth(serverUrl: string, provider: TestOAuthProvider): Promise<StreamableHTTPClientTransport> {
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider });
  try {
    await mcpClient().connect(transport);
  } catch (err) {
    if (err instanceof UnauthorizedError) return transport;
    throw err;
  }
  throw new Error('connected without authorization');
}

type AdminCall = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

/**
 * The person's part, with the consent decided over the API (as the console page does):
 * authorization URL -> consent page -> operator decides -> back at the client's redirect URI.
 */
export async function authorizeWithOperator(
  provider: TestOAuthProvider,
  admin: AdminCall,
  decision: Record<string, unknown>,
): Promise<{ uid: string; consent: unknown; back: URL }> {
  const browser = new CookieBrowser();
  if (provider.authorizationUrl === undefined) throw new Error('the client was not sent to authorize');
  const atConsent = await browser.follow(provider.authorizationUrl.href, (u) => u.pathname.startsWith('/console/mcp/consent/'));
  if (!atConsent.url.pathname.startsWith('/console/mcp/consent/')) throw new Error(`landed on ${atConsent.url.href}`);
  const uid = decodeURIComponent(atConsent.url.pathname.split('/').pop() ?? '');
  const view = await admin('GET', `/v1/mcp-consent/${uid}`);
  if (view.status !== 200) throw new Error(`consent view: ${JSON.stringify(view.body)}`);
  const decided = await admin('POST', `/v1/mcp-consent/${uid}`, decision);
  if (decided.status !== 200) throw new Error(`consent decision: ${JSON.stringify(decided.body)}`);
  const back = await browser.follow((decided.body as { redirectTo: string }).redirectTo, (u) => u.href.startsWith(provider.redirect));
  return { uid, consent: view.body, back: back.url };
}
