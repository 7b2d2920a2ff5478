import type { AuthenticatedAgent } from '../agents/index.js';
import { underPrefix } from '../agents/index.js';
import { Forbidden, InvalidRequest, NotFound, TargetNotAllowed } from '../errors.js';
import { hostKey } from '../providers/index.js';
import type { Broker, BrokeredResponse, BrokerDeps } from './broker.js';
import { checkMethod } from './method.js';
import { allowedHostsFor, checkAgentPath, checkScheme, resolveTarget } from './target.js';

/** `POST /v1/invoke/{connection}/{capability}` body. */
export interface InvokeInput {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
}

export function invokeCapability(deps: BrokerDeps, broker: Broker) {
  return async function invoke(
    agent: AuthenticatedAgent,
    connectionName: string,
    capabilityName: string,
    input: InvokeInput,
  ): Promise<BrokeredResponse> {
    let prepared;
    // A JSON field, not a request line: normalised to upper case like capability and policy methods.
    const method = (input.method ?? '').toUpperCase();
    try {
      const query = new URLSearchParams(input.query ?? {}).toString();
      const connection = await broker.visibleConnection(agent, connectionName);
      const provider = await broker.providerById(connection.providerId);
      const capability = provider.capabilities.find((c) => c.name === capabilityName);
      if (capability === undefined) {
        throw new NotFound(`provider "${provider.name}" has no capability "${capabilityName}"`);
      }
      const chosenMethod = method === '' ? (capability.methods[0] as string) : method;
      checkMethod(chosenMethod, query);
      if (!capability.methods.includes(chosenMethod)) {
        throw new Forbidden(`capability "${capabilityName}" does not allow ${chosenMethod}`);
      }
      const path = input.path ?? (capability.pathPrefixes[0] as string);
      if (path.includes('?')) throw new InvalidRequest('give query parameters in "query", not in the path');
      checkAgentPath(path);
      if (!capability.pathPrefixes.some((prefix) => underPrefix(path, prefix))) {
        throw new Forbidden(`capability "${capabilityName}" does not cover ${path}`);
      }
      const apiBaseUrl = connection.apiBaseUrl ?? provider.apiBaseUrl;
      if (apiBaseUrl === null) throw new TargetNotAllowed(`provider "${provider.name}" has no apiBaseUrl`);
      const apiBase = new URL(apiBaseUrl);
      // Capability prefixes are absolute paths on the capability's host (the API base host unless it names hosts).
      const host = capability.hosts?.[0] ?? hostKey(apiBase);
      const base = new URL(`${apiBase.protocol}//${host}`);
      checkScheme(base, deps.allowHttpLoopback);
      if (!allowedHostsFor(provider, connection.apiBaseUrl).has(hostKey(base))) throw new TargetNotAllowed(`host ${host} is not allowed for "${provider.name}"`);
      const target = resolveTarget(base, path, query);
      broker.checkPolicy(agent, provider, connection.apiBaseUrl, {
        connection: connection.name,
        method: chosenMethod,
        path: target.path,
        upstreamPath: target.upstreamPath,
        host: target.host,
        capability: capabilityName,
      });
      prepared = { connection, provider, target, method: chosenMethod };
    } catch (err) {
      return broker.denied(agent, connectionName, err, { capability: capabilityName, method });
    }
    const headers: Record<string, string> = { accept: 'application/json', ...lowerKeys(input.headers ?? {}) };
    let body: Buffer | undefined;
    if (typeof input.body === 'string') body = Buffer.from(input.body);
    else if (input.body !== undefined) {
      body = Buffer.from(JSON.stringify(input.body));
      headers['content-type'] ??= 'application/json';
    }
    return broker.exchange({
      agent,
      ...prepared,
      headers,
      body,
      action: 'invoke',
      capability: capabilityName,
      stripAuthHeaders: true,
    });
  };
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
