/**
 * An off-the-shelf API client works through the proxy unchanged (api.md,
 * "Agent-facing"): @octokit/rest pointed at `/v1/proxy/github` with the agent
 * key as its token, against a local fake of the GitHub API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Octokit } from '@octokit/rest';
import { relayLinkHeader } from '../src/broker/links.js';
import { auditEvents, createAgent, importTokens, startFakeApi, type FakeApi } from './helpers/broker-setup.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { assertNoSecrets } from './helpers/oauth-flows.js';

const PROVIDER_TOKEN = 'gho_fakeProviderToken0123456789abcdef';
const REPOS = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, name: `repo-${i + 1}`, full_name: `octocat/repo-${i + 1}` }));
const PER_PAGE = 2;

/** The parts of GitHub's REST API the test calls, answering 401 unless the provider token came as GitHub accepts it. */
function fakeGitHub(origin: () => string, agentKey: () => string, elsewhere: () => string = () => '') {
  return (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(payload));
    };
    const auth = req.headers.authorization ?? '';
    const everything = JSON.stringify(req.headers) + (req.url ?? '') + body;
    if (agentKey() !== '' && everything.includes(agentKey())) return reply(400, { message: 'the agent key reached the API' });
    if (auth !== `token ${PROVIDER_TOKEN}` && auth !== `Bearer ${PROVIDER_TOKEN}`) return reply(401, { message: 'Bad credentials' });
    const url = new URL(req.url ?? '/', origin());
    if (req.method === 'GET' && url.pathname === '/user') return reply(200, { login: 'octocat', id: 1 });
    if (req.method === 'GET' && url.pathname === '/user/repos') {
      const page = Number(url.searchParams.get('page') ?? '1');
      const last = Math.ceil(REPOS.length / PER_PAGE);
      const link = (p: number, rel: string): string => `<${origin()}/user/repos?page=${p}>; rel="${rel}"`;
      const links = [...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []), ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : [])];
      return reply(200, REPOS.slice((page - 1) * PER_PAGE, page * PER_PAGE), links.length > 0 ? { link: links.join(', ') } : {});
    }
    if (req.method === 'GET' && url.pathname === '/user/starred') {
      // A hostile (or compromised) API sends the client elsewhere for the next page.
      return reply(200, [REPOS[0]], { link: `<${elsewhere()}/user/starred?page=2>; rel="next", <${origin()}/user/starred?page=1>; rel="first"` });
    }
    const issue = /^\/repos\/([^/]+)\/([^/]+)\/issues$/.exec(url.pathname);
    if (req.method === 'POST' && issue !== null) {
      const input = JSON.parse(body) as { title: string; body?: string };
      return reply(201, { number: 42, title: input.title, body: input.body ?? null, repository_url: `${origin()}/repos/${issue[1]}/${issue[2]}` });
    }
    return reply(404, { message: 'Not Found' });
  };
}

describe('an off-the-shelf client (@octokit/rest) through the proxy', () => {
  let lk: InProcess;
  let github: FakeApi;
  let evil: FakeApi;
  let agentKey = '';
  let octokit: Octokit;
  const answers: string[] = [];
  const seenByAgent = (what: unknown): void => void answers.push(JSON.stringify(what));

  before(async () => {
    let origin = '';
    evil = await startFakeApi((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('[]'));
    github = await startFakeApi(fakeGitHub(() => origin, () => agentKey, () => evil.url));
    origin = github.url;
    lk = await startInProcess();
    const provider = await lk.admin('POST', '/v1/providers', {
      name: 'github',
      tokenEndpoint: `${github.url}/login/oauth/access_token`,
      apiBaseUrl: github.url,
    });
    assert.equal(provider.status, 201, JSON.stringify(provider.body));
    await importTokens(lk, { name: 'github', provider: 'github', accessToken: PROVIDER_TOKEN });
    const agent = await createAgent(lk, {
      name: 'octo-bot',
      policy: { rules: [{ connections: ['github'], methods: ['GET', 'POST'], paths: ['/user', '/user/repos', '/user/starred', '/repos/*/*/issues'] }] },
    });
    agentKey = agent.apiKey;
    // Silent: Octokit logs every failed request, and one test expects a 403.
    const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    octokit = new Octokit({ auth: agentKey, baseUrl: `${lk.url}/v1/proxy/github`, log: quiet });
  });

  after(async () => {
    await lk?.close();
    await github?.close();
    await evil?.close();
  });

  test('users.getAuthenticated: the provider token goes upstream, the agent key does not', async () => {
    const res = await octokit.rest.users.getAuthenticated();
    seenByAgent(res);
    assert.equal(res.status, 200);
    assert.equal(res.data.login, 'octocat');
    assert.equal(res.headers['latchkey-connection' as keyof typeof res.headers], 'github');
    const last = github.seen.at(-1);
    assert.ok(last !== undefined);
    assert.match(last.headers.authorization ?? '', /^(token|Bearer) /);
    assert.ok(!JSON.stringify(github.seen).includes(agentKey), 'the fake API saw the agent key');
  });

  test('pagination: Link URLs come back pointing at the proxy, and paginate follows them through it', async () => {
    const first = await octokit.rest.repos.listForAuthenticatedUser();
    seenByAgent(first);
    const link = first.headers.link ?? '';
    assert.ok(link.includes(`<${lk.url}/v1/proxy/github/user/repos?page=2>; rel="next"`), link);
    assert.ok(!link.includes(github.url), `the upstream origin leaked into Link: ${link}`);

    const before = github.seen.length;
    const all = await octokit.paginate(octokit.rest.repos.listForAuthenticatedUser);
    seenByAgent(all);
    assert.deepEqual(
      all.map((r) => r.name),
      REPOS.map((r) => r.name),
    );
    const pages = github.seen.slice(before).map((s) => s.url);
    assert.equal(pages.length, 3, `every page went through the proxy: ${pages.join(' ')}`);
    assert.ok(pages.slice(1).every((u) => /^\/user\/repos\?page=\d$/.test(u)), pages.join(' '));
  });

  test('a Link to an origin the token may not go to is dropped: paginate never takes the agent key there', async () => {
    const first = await octokit.rest.activity.listReposStarredByAuthenticatedUser();
    assert.equal(first.headers.link, `<${lk.url}/v1/proxy/github/user/starred?page=1>; rel="first"`);
    const all = await octokit.paginate(octokit.rest.activity.listReposStarredByAuthenticatedUser);
    assert.equal(all.length, 1);
    assert.equal(evil.seen.length, 0, 'the client followed a foreign Link with the agent key');
  });

  test('issues.create: the JSON body goes upstream and the 201 comes back', async () => {
    const res = await octokit.rest.issues.create({ owner: 'octocat', repo: 'hello', title: 'Found a bug', body: 'details' });
    seenByAgent(res);
    assert.equal(res.status, 201);
    assert.equal(res.data.number, 42);
    assert.equal(res.data.title, 'Found a bug');
    const sent = github.seen.at(-1);
    assert.equal(sent?.method, 'POST');
    assert.equal(sent?.url, '/repos/octocat/hello/issues');
    assert.deepEqual(JSON.parse(sent?.body ?? '{}'), { title: 'Found a bug', body: 'details' });
  });

  test('nothing the agent got back holds the provider token, and every call was audited', async () => {
    assert.ok(answers.length >= 4);
    assertNoSecrets(answers.join('\n'), [PROVIDER_TOKEN], 'a response to the agent');
    const events = await auditEvents(lk, '?connection=github&action=proxy.request');
    assert.ok(events.length >= 6, `expected the proxied calls in the audit log, got ${events.length}`);
    assert.ok(events.every((e) => e.actor.name === 'octo-bot'));
  });

  test('a policy that does not allow the call is refused before anything goes upstream', async () => {
    const before = github.seen.length;
    await assert.rejects(octokit.rest.repos.get({ owner: 'octocat', repo: 'hello' }), (err: { status?: number }) => err.status === 403);
    assert.equal(github.seen.length, before);
  });
});

describe('Link rewriting', () => {
  const bases = {
    requestUrl: 'https://api.example.com/v2/items?page=1',
    upstreamOrigin: 'https://api.example.com',
    upstreamBasePath: '/v2',
    proxyBase: 'https://lk.example/v1/proxy/ex',
    allowed: (url: URL) => url.protocol === 'https:' && ['api.example.com', 'uploads.example.com'].includes(url.host),
  };

  test('links under the API base move to the proxy (relative ones too); other allowed places stay; foreign ones are dropped', () => {
    const value = [
      '<https://api.example.com/v2/items?page=2&per_page=5>; rel="next"',
      '<https://api.example.com/v2>; rel="index"',
      '<https://api.example.com/v20/items>; rel="sibling"',
      '<https://api.example.com/other>; rel="outside"',
      '<https://evil.example/v2/items>; rel="elsewhere"',
      '<http://api.example.com/v2/items>; rel="plain"',
      '<https://uploads.example.com/v2/x>; title="a, <b>"; rel="upload"',
      '<//evil.example/x>; rel="scheme-relative"',
      'garbage',
      '</v2/items?page=1>; rel="first"',
    ].join(', ');
    assert.equal(
      relayLinkHeader(value, bases),
      [
        '<https://lk.example/v1/proxy/ex/items?page=2&per_page=5>; rel="next"',
        '<https://lk.example/v1/proxy/ex>; rel="index"',
        '<https://api.example.com/v20/items>; rel="sibling"',
        '<https://api.example.com/other>; rel="outside"',
        '<https://uploads.example.com/v2/x>; title="a, <b>"; rel="upload"',
        '<https://lk.example/v1/proxy/ex/items?page=1>; rel="first"',
      ].join(', '),
    );
    assert.equal(relayLinkHeader('<https://evil.example/>; rel="next"', bases), undefined);
  });
});
