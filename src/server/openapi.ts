import type { FastifyInstance, RouteOptions } from 'fastify';
import { errorResponse } from '../api/index.js';

/**
 * The OpenAPI 3.1 document, generated from the routes Fastify registers: an
 * `onRoute` hook on the root instance sees every route of every plugin, so a
 * route added anywhere appears with the schemas it declares (docs/api-reference.md
 * is rendered from the same document). JSON Schema 2020-12 is OpenAPI 3.1's own
 * dialect, so the request and response schemas go in as they are.
 */

/** Who may call a route: the names of `components.securitySchemes`. */
export type Security = 'adminToken' | 'operatorKey' | 'session' | 'agentKey';

/** A route's place in the document, set in `config.openapi` (by a scope's hook or the route itself). */
export interface OpenApiConfig {
  /** Any one of these authenticates; [] (or nothing): public. */
  security?: Security[];
  /** Left out of the document (HTML pages, OAuth and MCP endpoints specified elsewhere). */
  hide?: boolean;
}

interface Collected {
  method: string;
  url: string;
  /** The route's options object itself: scope hooks may still add to its config after this hook saw it. */
  route: RouteOptions;
}

type JsonSchema = Record<string, unknown>;

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The REST API proper: every route here must document its answers (the OpenAPI test enforces it). */
export function isApiPath(url: string): boolean {
  return url.startsWith('/v1/') || url === '/healthz' || url === '/readyz' || url === '/openapi.json';
}

const SECURITY_SCHEMES = {
  adminToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The break-glass admin token (LATCHKEY_ADMIN_TOKEN, `lka_…`).',
  },
  operatorKey: { type: 'http', scheme: 'bearer', description: 'An operator API key (`lko_…`), with its role.' },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: '__Host-lk_session',
    description: 'A console session; a request other than GET also sends `X-Latchkey-CSRF` and a same-origin `Origin`.',
  },
  agentKey: { type: 'http', scheme: 'bearer', description: 'An agent API key (`lk_…`): what its policy allows.' },
} as const;

/** Marks every route of a scope: `scope.addHook('onRoute', securedBy(['adminToken', …]))`. */
export function securedBy(security: Security[]): (route: RouteOptions) => void {
  return (route) => {
    const current = (route.config as { openapi?: OpenApiConfig } | undefined)?.openapi;
    if (current?.security !== undefined) return;
    route.config = { ...(route.config as object | undefined), openapi: { ...current, security } };
  };
}

/** `/v1/agents/:id` → `/v1/agents/{id}`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(schema: JsonSchema | undefined, where: 'path' | 'query'): JsonSchema[] {
  const properties = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema?.required ?? []) as string[]);
  return Object.entries(properties).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
    schema: s,
  }));
}

const STATUS_TEXT: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted', '204': 'No Content', '503': 'Service Unavailable', default: 'Any other answer' };

function operation(c: Collected): JsonSchema {
  const schema = (c.route.schema ?? {}) as Record<string, JsonSchema | undefined> & { response?: Record<string, JsonSchema> };
  const config = (c.route.config as { openapi?: OpenApiConfig } | undefined)?.openapi ?? {};
  const responses: Record<string, JsonSchema> = {};
  for (const [status, body] of Object.entries(schema.response ?? {})) {
    const { description, ...bodySchema } = body;
    responses[status] = {
      description: typeof description === 'string' ? description : (STATUS_TEXT[status] ?? 'Answer'),
      ...(Object.keys(bodySchema).length === 0 ? {} : { content: { 'application/json': { schema: bodySchema } } }),
    };
  }
  responses.default ??= { description: 'An error: a stable `error` code (docs/errors.md) and a message', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const segments = c.url.split('/').filter((s) => s !== '' && s !== 'v1');
  return {
    operationId: `${c.method.toLowerCase()}${segments.map((s) => s.replace(/^:/, 'by-')).map((s) => s.replace(/(^|[-_.])([a-z0-9])/g, (_m, _p, ch: string) => ch.toUpperCase())).join('')}`,
    tags: [segments[0] ?? 'root'],
    ...(typeof schema.summary === 'string' ? { summary: schema.summary } : {}),
    parameters: [...parameters(schema.params, 'path'), ...parameters(schema.querystring, 'query')],
    ...(schema.body === undefined
      ? {}
      : { requestBody: { required: ((schema.body.required ?? []) as unknown[]).length > 0, content: { 'application/json': { schema: schema.body } } } }),
    responses,
    security: (config.security ?? []).map((name) => ({ [name]: [] })),
  };
}

/** Collects the routes as they are registered; call before any route is added. */
export function openApiCollector(app: FastifyInstance): { routes(): Collected[]; document(info: { version: string; serverUrl: string }): JsonSchema } {
  const collected: Collected[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (METHODS.includes(method)) collected.push({ method, url: route.url, route });
    }
  });
  const shown = (): Collected[] =>
    collected.filter((c) => {
      const config = (c.route.config as { openapi?: OpenApiConfig } | undefined)?.openapi;
      return config?.hide !== true && (isApiPath(c.url) || c.route.schema?.response !== undefined);
    });
  return {
    routes: shown,
    document: ({ version, serverUrl }) => {
      const paths: Record<string, Record<string, JsonSchema>> = {};
      for (const c of [...shown()].sort((a, b) => (a.url === b.url ? METHODS.indexOf(a.method) - METHODS.indexOf(b.method) : a.url < b.url ? -1 : 1))) {
        (paths[openApiPath(c.url)] ??= {})[c.method.toLowerCase()] = operation(c);
      }
      return {
        openapi: '3.1.0',
        info: {
          title: 'Latchkey API',
          version,
          description: 'OAuth token vault and broker for AI agents. Generated from the routes the server registers; see docs/api-reference.md.',
        },
        jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
        servers: [{ url: serverUrl }],
        paths,
        components: { schemas: { Error: errorResponse }, securitySchemes: SECURITY_SCHEMES },
      };
    },
  };
}
