import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { AuthenticatedAgent } from '../agents/index.js';
import type { Broker, BrokeredResponse, BrokerDeps } from './broker.js';
import { checkMethod } from './method.js';
import { resolveBase, resolveTarget } from './target.js';

/** One agent request to `ANY /v1/proxy/{connection}/{path...}`, as it arrived. */
export interface ProxyRequest {
  connection: string;
  method: string;
  /** Percent-encoded path after the connection segment ("" for the base itself). */
  rawPath: string;
  /** Query string without "?". */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Readable | undefined;
  declaredLength: number | undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function proxyRequest(deps: BrokerDeps, broker: Broker) {
  return async function proxy(agent: AuthenticatedAgent, p: ProxyRequest): Promise<BrokeredResponse> {
    // As sent: HTTP methods are case-sensitive, and Node's parser already refuses "get".
    const method = p.method;
    let prepared;
    try {
      checkMethod(method, p.rawQuery);
      const connection = await broker.visibleConnection(agent, p.connection);
      const provider = await broker.providerById(connection.providerId);
      const base = resolveBase(provider, single(p.headers['latchkey-base-url']), deps.allowHttpLoopback, connection.apiBaseUrl);
      const target = resolveTarget(base, p.rawPath, p.rawQuery);
      broker.checkPolicy(agent, provider, connection.apiBaseUrl, {
        connection: connection.name,
        method,
        path: target.path,
        upstreamPath: target.upstreamPath,
        host: target.host,
      });
      prepared = { connection, provider, target };
    } catch (err) {
      p.body?.resume();
      return broker.denied(agent, p.connection, err, { method, path: (p.rawPath || '/').slice(0, 512) });
    }
    const body = await deps.forwarder.prepareBody(p.body, p.declaredLength);
    return broker.exchange({
      agent,
      ...prepared,
      method,
      headers: p.headers,
      body,
      contentLength: p.declaredLength,
      action: 'proxy.request',
      stripAuthHeaders: false,
      proxyBase: () => `${(deps.publicUrl?.() ?? '').replace(/\/+$/, '')}/v1/proxy/${encodeURIComponent(p.connection)}`,
    });
  };
}
