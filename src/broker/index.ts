import { createBroker, type BrokerDeps } from './broker.js';
import { invokeCapability } from './invoke.js';
import { proxyRequest } from './proxy.js';

export { Forwarder, REPLAYABLE_BODY_LIMIT, type ForwarderOptions } from './forward.js';
export { agentActor, type BrokeredResponse, type BrokerDeps } from './broker.js';
export type { ProxyRequest } from './proxy.js';
export type { InvokeInput } from './invoke.js';
export { checkAgentPath, resolveBase, resolveTarget, allowedHostsOf, type Target } from './target.js';
export { upstreamRequestHeaders, relayedResponseHeaders } from './headers.js';
export { redactorFor, REDACTION_MARKER } from './redact.js';

/** The broker: the proxy and invoke over one set of dependencies. */
export function brokerService(deps: BrokerDeps) {
  const broker = createBroker(deps);
  return {
    proxy: proxyRequest(deps, broker),
    invoke: invokeCapability(deps, broker),
    visibleConnection: broker.visibleConnection,
    denied: broker.denied,
    close: () => deps.forwarder.close(),
  };
}

export type BrokerService = ReturnType<typeof brokerService>;

/** Upstream time bounds: response headers within 30 s, no more than 60 s of silence in a body. */
export const UPSTREAM_TIMEOUTS = { headersTimeoutMs: 30_000, bodyTimeoutMs: 60_000 } as const;
