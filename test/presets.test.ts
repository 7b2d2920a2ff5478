import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { PRESETS, findPreset } from '../src/providers/presets.js';
import type { Preset } from '../src/providers/types.js';

const REQUIRED = [
  'google',
  'github',
  'microsoft',
  'slack',
  'spotify',
  'xero',
  'quickbooks',
  'reddit',
  'notion',
  'salesforce',
  'hubspot',
  'linear',
  'dropbox',
  'zoom',
  'discord',
  'gitlab',
  'atlassian',
  'asana',
  'figma',
  'twitter',
];

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Every URL a preset carries, with a label for failure messages. */
function endpointUrls(p: Preset): Array<[string, string]> {
  const urls: Array<[string, string | undefined]> = [
    ['issuer', p.issuer],
    ['authorizationEndpoint', p.authorizationEndpoint],
    ['tokenEndpoint', p.tokenEndpoint],
    ['revocationEndpoint', p.revocationEndpoint],
    ['deviceAuthorizationEndpoint', p.deviceAuthorizationEndpoint],
    ['userinfoEndpoint', p.userinfoEndpoint],
    ['apiBaseUrl', p.apiBaseUrl],
    ['docsUrl', p.docsUrl],
    ['quirks.refreshEndpoint', p.quirks.refreshEndpoint],
  ];
  return urls.filter((e): e is [string, string] => e[1] !== undefined);
}

function preset(name: string): Preset {
  const p = findPreset(name);
  assert.ok(p, `preset ${name} exists`);
  return p;
}

describe('provider presets', () => {
  it('includes every required provider', () => {
    const names = new Set(PRESETS.map((p) => p.name));
    for (const name of REQUIRED) assert.ok(names.has(name), `missing preset ${name}`);
    assert.ok(PRESETS.length >= REQUIRED.length);
  });

  it('has unique, lowercase names and a display name', () => {
    const seen = new Set<string>();
    for (const p of PRESETS) {
      assert.match(p.name, /^[a-z][a-z0-9-]*$/, `name ${p.name} is lowercase`);
      assert.ok(!seen.has(p.name), `duplicate preset ${p.name}`);
      seen.add(p.name);
      assert.ok(p.displayName.trim().length > 0, `${p.name} has a displayName`);
    }
  });

  it('uses only parseable https URLs', () => {
    for (const p of PRESETS) {
      for (const [label, value] of endpointUrls(p)) {
        let url: URL;
        assert.doesNotThrow(() => {
          url = new URL(value);
        }, `${p.name}.${label} parses: ${value}`);
        url = new URL(value);
        assert.equal(url.protocol, 'https:', `${p.name}.${label} is https: ${value}`);
        assert.equal(url.username + url.password, '', `${p.name}.${label} carries no credentials`);
        assert.equal(url.hash, '', `${p.name}.${label} has no fragment`);
      }
    }
  });

  it('lists bare hosts in allowedHosts, covering the API base URL host', () => {
    for (const p of PRESETS) {
      assert.ok(p.allowedHosts.length > 0, `${p.name} has allowedHosts`);
      for (const host of p.allowedHosts) {
        assert.match(host, /^[a-z0-9.-]+(:\d+)?$/, `${p.name} allowed host ${host} is a bare lowercase host`);
        assert.equal(new URL(`https://${host}`).host, host, `${p.name} allowed host ${host} is canonical`);
      }
      const base = new URL(p.apiBaseUrl);
      assert.ok(p.allowedHosts.includes(base.host), `${p.name} API base host ${base.host} is in allowedHosts`);
    }
  });

  it('has a sane auth method, scopes and docs', () => {
    for (const p of PRESETS) {
      assert.ok(
        ['client_secret_basic', 'client_secret_post', 'none'].includes(p.tokenEndpointAuthMethod),
        `${p.name} tokenEndpointAuthMethod`,
      );
      assert.equal(typeof p.pkce, 'boolean', `${p.name} pkce`);
      assert.equal(new Set(p.scopes).size, p.scopes.length, `${p.name} scopes are unique`);
      for (const scope of p.scopes) assert.doesNotMatch(scope, /\s|,/, `${p.name} scope "${scope}" is a single scope`);
      for (const [k, v] of Object.entries(p.authorizeParams ?? {})) {
        assert.ok(k.length > 0 && v.length > 0, `${p.name} authorizeParams ${k}`);
      }
    }
  });

  it('gives every preset 1-3 well-formed capabilities', () => {
    for (const p of PRESETS) {
      assert.ok(p.capabilities.length >= 1 && p.capabilities.length <= 3, `${p.name} has 1-3 capabilities`);
      const baseHost = new URL(p.apiBaseUrl).host;
      const permitted = new Set([...p.allowedHosts, baseHost]);
      const names = new Set<string>();
      for (const c of p.capabilities) {
        const where = `${p.name}/${c.name}`;
        assert.match(c.name, /^[a-z][a-z0-9-]*$/, `${where} name`);
        assert.ok(!names.has(c.name), `${where} is unique`);
        names.add(c.name);
        assert.ok(c.description.length > 0, `${where} description`);
        assert.ok(c.methods.length >= 1, `${where} has a method`);
        for (const m of c.methods) {
          assert.equal(m, m.toUpperCase(), `${where} method ${m} is upper-case`);
          assert.ok(HTTP_METHODS.has(m), `${where} method ${m} is an HTTP method`);
        }
        assert.ok(c.pathPrefixes.length >= 1, `${where} has a path prefix`);
        for (const prefix of c.pathPrefixes) {
          assert.ok(prefix.startsWith('/'), `${where} prefix ${prefix} starts with /`);
          assert.doesNotMatch(prefix, /[?#\s]|\/\/|\/\.\.?(\/|$)/, `${where} prefix ${prefix} is normalised`);
        }
        for (const host of c.hosts ?? []) {
          assert.ok(permitted.has(host), `${where} host ${host} is within allowedHosts or the API base host`);
        }
      }
    }
  });

  it('finds presets case-insensitively', () => {
    assert.equal(findPreset('github')?.name, 'github');
    assert.equal(findPreset('GitHub')?.name, 'github');
    assert.equal(findPreset('TWITTER')?.displayName, 'X (Twitter)');
    for (const p of PRESETS) {
      assert.equal(findPreset(p.name.toUpperCase()), p);
    }
  });

  it('returns undefined for unknown names', () => {
    assert.equal(findPreset('no-such-provider'), undefined);
    assert.equal(findPreset(''), undefined);
    assert.equal(findPreset('constructor'), undefined);
    assert.equal(findPreset('__proto__'), undefined);
  });

  it('records the GitHub quirks', () => {
    const gh = preset('github');
    assert.equal(gh.quirks.errorInSuccessfulTokenResponse, true);
    assert.equal(gh.quirks.tokenScopeSeparator, ',');
    assert.equal(gh.quirks.defaultExpiresIn, null);
    assert.equal(gh.quirks.tokenRequestAcceptJson, true);
    assert.equal(gh.deviceAuthorizationEndpoint, 'https://github.com/login/device/code');
    assert.equal(gh.authorizationEndpoint, 'https://github.com/login/oauth/authorize');
    assert.equal(gh.tokenEndpoint, 'https://github.com/login/oauth/access_token');
  });

  it('marks providers with rotating refresh tokens', () => {
    const rotating = new Set(PRESETS.filter((p) => p.quirks.rotatesRefreshTokens).map((p) => p.name));
    for (const name of ['xero', 'quickbooks', 'twitter', 'atlassian']) {
      assert.ok(rotating.has(name), `${name} rotates refresh tokens`);
    }
  });

  it('asks for refresh tokens the way each provider needs', () => {
    assert.equal(preset('google').authorizeParams?.access_type, 'offline');
    assert.equal(preset('google').authorizeParams?.prompt, 'consent');
    assert.equal(preset('dropbox').authorizeParams?.token_access_type, 'offline');
    assert.equal(preset('reddit').authorizeParams?.duration, 'permanent');
    const atlassian = preset('atlassian');
    assert.equal(atlassian.authorizeParams?.audience, 'api.atlassian.com');
    assert.equal(atlassian.authorizeParams?.prompt, 'consent');
    assert.ok(atlassian.scopes.includes('offline_access'));
    assert.ok(preset('microsoft').scopes.includes('offline_access'));
    assert.ok(preset('xero').scopes.includes('offline_access'));
    assert.ok(preset('salesforce').scopes.includes('refresh_token'));
    const x = preset('twitter');
    assert.ok(x.scopes.includes('offline.access'));
    assert.equal(x.pkce, true);
    assert.equal(x.displayName, 'X (Twitter)');
    assert.equal(x.authorizationEndpoint, 'https://twitter.com/i/oauth2/authorize');
    assert.equal(x.tokenEndpoint, 'https://api.x.com/2/oauth2/token');
  });

  it('records the Slack, Notion, Salesforce and QuickBooks specifics', () => {
    const slack = preset('slack');
    assert.equal(slack.quirks.tokenResponseRoot, 'authed_user');
    assert.equal(slack.quirks.authorizeScopeSeparator, ',');
    assert.equal(slack.quirks.tokenScopeSeparator, ',');
    assert.equal(slack.authorizationEndpoint, 'https://slack.com/oauth/v2/authorize');
    assert.equal(preset('notion').tokenEndpointAuthMethod, 'client_secret_basic');
    assert.equal(preset('reddit').tokenEndpointAuthMethod, 'client_secret_basic');
    assert.equal(preset('salesforce').quirks.instanceUrlField, 'instance_url');
    assert.equal(preset('quickbooks').apiBaseUrl, 'https://quickbooks.api.intuit.com');
  });
});
