import type { Command } from 'commander';
import { UsageError, type GlobalOptions } from '../context.js';
import { printJson, say } from '../output.js';

interface SetupOptions {
  provider: string;
  authUrl?: string;
  clientId: string;
  redirectUri: string;
  scope?: string[];
  state?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(/[\s,]+/).filter(Boolean)];
}

function parseUrl(value: string, flag: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new UsageError(`${flag} must be a URL`);
  }
}

/**
 * `latchkey oauth setup`: a consent URL with PKCE (S256) and state, without a
 * server, as aivault's CLI does. The person exchanges the code themselves,
 * with the printed code verifier, and can import the result with `secrets create`.
 */
export function oauthCommand(program: Command, globals: () => GlobalOptions): void {
  const oauth = program.command('oauth').description('OAuth helpers that need no server');
  oauth
    .command('setup')
    .description('print a consent URL (PKCE + state) and the code verifier to exchange the code with')
    .requiredOption('--provider <name>', 'a preset name (fills in the URL, scopes and quirks) or any label')
    .option('--auth-url <url>', 'authorization endpoint (default: the preset’s)')
    .requiredOption('--client-id <id>', 'OAuth client id')
    .requiredOption('--redirect-uri <uri>', 'redirect URI registered with the provider')
    .option('--scope <scope>', 'scope to request (repeatable; default: the preset’s)', collect)
    .option('--state <state>', 'state to use (default: 256 random bits)')
    .action(async (o: SetupOptions) => {
      // Loaded here: the rest of the CLI must not pay for them at start (see main.ts).
      const [oidc, { findPreset }] = await Promise.all([import('openid-client'), import('../../providers/index.js')]);
      const preset = findPreset(o.provider);
      const authUrl = o.authUrl ?? preset?.authorizationEndpoint;
      if (authUrl === undefined) throw new UsageError(`--auth-url is required: "${o.provider}" is not a preset`);
      const url = parseUrl(authUrl, '--auth-url');
      parseUrl(o.redirectUri, '--redirect-uri');
      const scopes = o.scope ?? preset?.scopes ?? [];
      const state = o.state ?? oidc.randomState();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const codeChallenge = await oidc.calculatePKCECodeChallenge(codeVerifier);
      for (const [key, value] of Object.entries(preset?.authorizeParams ?? {})) url.searchParams.set(key, value);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', o.clientId);
      url.searchParams.set('redirect_uri', o.redirectUri);
      if (scopes.length > 0) {
        url.searchParams.set(
          preset?.quirks.authorizeScopeParam ?? 'scope',
          scopes.join(preset?.quirks.authorizeScopeSeparator ?? ' '),
        );
      }
      url.searchParams.set('state', state);
      url.searchParams.set('code_challenge', codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');

      if (globals().json) {
        return printJson({ authorizationUrl: url.href, state, codeVerifier, codeChallenge, redirectUri: o.redirectUri });
      }
      say`Open this URL and give consent:\n\n  ${url.href}\n\nstate          ${state}\ncode verifier  ${codeVerifier}\n\n`;
      say`The provider redirects to the redirect URI with ?code=...&state=...; check the state, then exchange the code at\n`;
      say`the token endpoint with grant_type=authorization_code, the code, the same redirect_uri and\ncode_verifier=${codeVerifier}\n`;
    });
}
