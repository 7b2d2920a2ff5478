import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/registry.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

/**
 * Issue 14 item 2: every REST operation has a CLI command. The route table
 * comes from the real Fastify app; each route is either mapped to the CLI
 * command that calls it (checked to exist in commander's tree, flags
 * included) or excluded below with the reason. A new route with neither
 * fails here.
 *
 * To add a route: add `'METHOD /path/:param': 'command words [--flag]'` to
 * ROUTE_COMMANDS (the path as Fastify spells it).
 */
const ROUTE_COMMANDS: Record<string, string> = {
  'GET /v1/presets': 'presets',
  'GET /openapi.json': 'openapi',
  'POST /v1/providers': 'providers add',
  'GET /v1/providers': 'providers list',
  'GET /v1/providers/:name': 'providers show',
  'PATCH /v1/providers/:name': 'providers update',
  'DELETE /v1/providers/:name': 'providers remove',
  'GET /v1/providers/:name/clients': 'providers clients',
  'PATCH /v1/providers/:name/clients/:id': 'providers update-client',
  'GET /v1/connections': 'connections list',
  'POST /v1/connections/import': 'secrets create',
  'GET /v1/connections/:id': 'connections show',
  'DELETE /v1/connections/:id': 'connections revoke',
  'GET /v1/connections/:id/token': 'connections token',
  'POST /v1/connections/:id/refresh': 'connections refresh',
  'POST /v1/connect/:provider': 'connect',
  'POST /v1/connect/:provider/device': 'connect --device',
  'POST /v1/connect/:provider/client-credentials': 'connect --client-credentials',
  'GET /v1/revocations': 'revocations',
  'GET /v1/keys': 'keys list',
  'POST /v1/keys/rotate': 'keys rotate',
  'POST /v1/webhooks': 'webhooks add',
  'GET /v1/webhooks': 'webhooks list',
  'DELETE /v1/webhooks/:id': 'webhooks remove',
  'GET /v1/webhooks/:id/deliveries': 'webhooks deliveries',
  'POST /v1/webhooks/:id/deliveries/:deliveryId/retry': 'webhooks retry',
  'POST /v1/agents': 'agents create',
  'GET /v1/agents': 'agents list',
  'GET /v1/agents/:id': 'agents show',
  'PATCH /v1/agents/:id': 'agents update',
  'DELETE /v1/agents/:id': 'agents remove',
  'POST /v1/agents/:id/keys': 'agents add-key',
  'DELETE /v1/agents/:id/keys/:keyId': 'agents remove-key',
  'GET /v1/agents/:id/mcp-clients': 'agents mcp-clients',
  'DELETE /v1/agents/:id/mcp-clients/:grantId': 'agents revoke-mcp-client',
  'GET /v1/audit': 'audit',
  'POST /v1/audit/prune': 'audit prune',
  'GET /v1/audit/verify': 'audit verify',
  'GET /v1/leases': 'leases list',
  'POST /v1/leases': 'lease',
  'DELETE /v1/leases/:id': 'leases end',
  'POST /v1/invoke/:connection/:capability': 'invoke',
  'GET /v1/me': 'me',
  'GET /v1/status': 'status',
  'POST /v1/proposals': 'proposals create',
  'GET /v1/proposals': 'proposals list',
  'GET /v1/proposals/:id': 'proposals show',
  'POST /v1/proposals/:id/approve': 'proposals approve',
  'POST /v1/proposals/:id/deny': 'proposals deny',
  'POST /v1/connect-links': 'connect-link',
  'GET /v1/connect-links': 'connect-links list',
  'DELETE /v1/connect-links/:id': 'connect-links remove',
  'POST /v1/mcp-servers': 'mcp-servers add',
  'GET /v1/mcp-servers': 'mcp-servers list',
  'GET /v1/mcp-servers/:name': 'mcp-servers show',
  'DELETE /v1/mcp-servers/:name': 'mcp-servers remove',
  'GET /v1/mcp-tools': 'mcp-tools list',
  'POST /v1/mcp-tools/:server/:tool': 'mcp-tools call',
  'GET /v1/mcp-consent/:uid': 'mcp-consent show',
  'POST /v1/mcp-consent/:uid': 'mcp-consent approve',
  'POST /v1/operators': 'operators add',
  'GET /v1/operators': 'operators list',
  'GET /v1/operators/:name': 'operators show',
  'PATCH /v1/operators/:name': 'operators update',
  'DELETE /v1/operators/:name': 'operators remove',
  'POST /v1/operators/:name/sign-in-links': 'operators sign-in-link',
  'POST /v1/operators/:name/keys': 'operators keys create',
  'GET /v1/operators/:name/keys': 'operators keys list',
  'DELETE /v1/operators/:name/keys/:keyId': 'operators keys remove',
};

/**
 * Routes answered before Fastify (so not in its table), with their command:
 * the proxy is plain node:http in front of the app (server/proxy-handler.ts).
 */
const RAW_ROUTES: Record<string, string> = {
  'ANY /v1/proxy/*': 'invoke',
};

/** Routes that are not operations a person runs from a terminal, and why. `*` matches the rest of a path. */
const EXCLUDED: Array<{ method: string; path: string; why: string }> = [
  { method: 'GET', path: '/healthz', why: 'liveness probe for orchestrators; `latchkey status` is the person-facing check' },
  { method: 'GET', path: '/readyz', why: 'readiness probe for orchestrators; `latchkey status` is the person-facing check' },
  { method: 'GET', path: '/metrics', why: 'Prometheus scrape target, read by a monitoring system' },
  { method: 'GET', path: '/oauth/start/:token', why: 'browser: the one-time link that starts a consent in the browser that opens it' },
  { method: 'GET', path: '/oauth/callback', why: "browser: the provider's redirect after consent" },
  { method: 'GET', path: '/oauth/callback/:provider', why: "browser: the provider's redirect after consent" },
  { method: '*', path: '/', why: 'browser: redirects to the console' },
  { method: '*', path: '/console*', why: 'browser: the web console (a single-page app over this same API)' },
  { method: '*', path: '/connect/*', why: 'browser: the connect-link page an account owner opens, its Continue form and its stylesheet' },
  { method: '*', path: '/mcp', why: 'protocol: MCP over Streamable HTTP for agent hosts (`latchkey mcp` is its stdio twin)' },
  { method: '*', path: '/mcp-oauth/*', why: 'protocol: the OAuth authorization server MCP hosts register with and sign in through' },
  { method: '*', path: '/.well-known/*', why: 'protocol: RFC 9728 / RFC 8414 metadata for MCP hosts' },
  { method: '*', path: '/v1/session', why: "browser: the console's cookie session (the CLI authenticates with the admin token or an operator key)" },
  { method: '*', path: '/v1/sessions', why: "browser: console sign-in, which sets a cookie (the CLI authenticates with the admin token or an operator key)" },
];

/** `METHOD /path` of every route in the app, from Fastify's own route tree (HEAD is Fastify's twin of GET). */
function routeTable(printed: string): string[] {
  const routes: string[] = [];
  const parents: string[] = [];
  for (const line of printed.split('\n')) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (match === null) continue;
    const depth = (match[1] ?? '').length / 4;
    const path = (depth === 0 ? '' : (parents[depth - 1] ?? '')) + (match[2] ?? '');
    parents[depth] = path;
    parents.length = depth + 1;
    for (const method of (match[3] ?? '').split(', ').filter(Boolean)) {
      if (method !== 'HEAD') routes.push(`${method} ${path}`);
    }
  }
  return routes;
}

function excluded(route: string): boolean {
  const [method, path] = route.split(' ') as [string, string];
  return EXCLUDED.some((e) => {
    if (e.method !== '*' && e.method !== method) return false;
    return e.path.endsWith('*') ? path.startsWith(e.path.slice(0, -1)) : path === e.path;
  });
}

/** The command a map value names (its words), checked down commander's tree; its `--flags` must be options of that command. */
function findCommand(program: Command, spec: string): string | undefined {
  const words = spec.split(' ');
  let command = program;
  for (const word of words.filter((w) => !w.startsWith('--'))) {
    const next = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (next === undefined) return `no command "${word}" under "${command.name()}"`;
    command = next;
  }
  for (const flag of words.filter((w) => w.startsWith('--'))) {
    if (!command.options.some((o) => o.long === flag)) return `"${command.name()}" has no option ${flag}`;
  }
  return undefined;
}

describe('the CLI covers the REST API', () => {
  let lk: InProcess;
  let routes: string[];
  let program: Command;
  before(async () => {
    lk = await startInProcess();
    routes = routeTable(lk.app.printRoutes({ commonPrefix: false }));
    program = await buildProgram([], { all: true });
  });
  after(async () => {
    await lk.close();
  });

  test('the route table is read from the app', () => {
    assert.ok(routes.includes('GET /v1/connections'), routes.join('\n'));
    assert.ok(routes.includes('DELETE /v1/agents/:id/keys/:keyId'), routes.join('\n'));
    assert.ok(routes.length > 30);
  });

  test('every route has a CLI command or a reason not to', () => {
    const missing = routes.filter((r) => ROUTE_COMMANDS[r] === undefined && !excluded(r));
    assert.deepEqual(missing, [], 'routes without a CLI command: add them to ROUTE_COMMANDS in test/cli-coverage.test.ts (and the command)');
  });

  test('every mapped route exists (the map does not go stale)', () => {
    const stale = Object.keys(ROUTE_COMMANDS).filter((r) => !routes.includes(r));
    assert.deepEqual(stale, []);
  });

  test("every mapped command exists in commander's tree, with the flags named", () => {
    const broken = Object.entries({ ...ROUTE_COMMANDS, ...RAW_ROUTES })
      .map(([route, spec]) => [route, spec, findCommand(program, spec)] as const)
      .filter(([, , problem]) => problem !== undefined)
      .map(([route, spec, problem]) => `${route} → ${spec}: ${problem}`);
    assert.deepEqual(broken, []);
  });

  test('an excluded route is not also mapped', () => {
    assert.deepEqual(Object.keys(ROUTE_COMMANDS).filter(excluded), []);
  });
});
