import type { FastifyInstance } from 'fastify';
import type { Latchkey } from '../latchkey.js';
import { authenticatePrincipal } from './auth.js';

type Labels = Record<string, string>;

/** A tiny Prometheus text registry: counters only; gauges are read from the store at scrape time. */
export class Metrics {
  readonly #counters = new Map<string, { help: string; values: Map<string, number> }>();

  counter(name: string, help: string): void {
    if (!this.#counters.has(name)) this.#counters.set(name, { help, values: new Map() });
  }

  readonly #formatted = new WeakMap<Labels, string>();

  inc(name: string, labels: Labels, by = 1): void {
    const counter = this.#counters.get(name);
    if (counter === undefined) throw new Error(`unknown metric ${name}`);
    // Callers reuse label objects on hot paths; format each one once.
    let key = this.#formatted.get(labels);
    if (key === undefined) {
      key = formatLabels(labels);
      this.#formatted.set(labels, key);
    }
    counter.values.set(key, (counter.values.get(key) ?? 0) + by);
  }

  render(gauges: Array<{ name: string; help: string; values: Array<[Labels, number]> }>): string {
    const lines: string[] = [];
    for (const [name, { help, values }] of this.#counters) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of values) lines.push(`${name}${labels} ${value}`);
    }
    for (const gauge of gauges) {
      lines.push(`# HELP ${gauge.name} ${gauge.help}`, `# TYPE ${gauge.name} gauge`);
      for (const [labels, value] of gauge.values) lines.push(`${gauge.name}${formatLabels(labels)} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${entries.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
}

const REQUESTS = 'latchkey_http_requests_total';
const DURATION = 'latchkey_http_request_duration_seconds_total';

/** Per-request counters, shared by Fastify's routes and the proxy route served in front of it. */
export interface RequestMetrics {
  count(method: string, route: string, status: number, seconds: number): void;
  render(core: Latchkey): Promise<string>;
}

export function requestMetrics(): RequestMetrics {
  const metrics = new Metrics();
  metrics.counter(REQUESTS, 'HTTP requests by method, route pattern and status.');
  metrics.counter(DURATION, 'Total seconds spent answering HTTP requests, by route pattern.');
  const started = Date.now();
  // Label sets per (method, route, status), built once: this runs on every proxied request.
  const labelSets = new Map<string, { requests: Labels; duration: Labels }>();
  return {
    count(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let labels = labelSets.get(key);
      if (labels === undefined) {
        labels = { requests: { method, route, status: String(status) }, duration: { route } };
        labelSets.set(key, labels);
      }
      metrics.inc(REQUESTS, labels.requests);
      metrics.inc(DURATION, labels.duration, seconds);
    },
    async render(core) {
      const byStatus = await core.store.connections.countByStatus();
      const memory = process.memoryUsage();
      return metrics.render([
        {
          name: 'latchkey_connections',
          help: 'Connections by status.',
          values: Object.entries(byStatus).map(([status, n]) => [{ status }, n]),
        },
        { name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', values: [[{}, memory.rss]] },
        { name: 'nodejs_heap_used_bytes', help: 'V8 heap in use, in bytes.', values: [[{}, memory.heapUsed]] },
        { name: 'latchkey_uptime_seconds', help: 'Seconds since this process started serving.', values: [[{}, (Date.now() - started) / 1000]] },
      ]);
    },
  };
}

/**
 * Counts every request by route pattern (never the concrete URL: connection
 * names and OAuth query strings stay out of metrics) and serves /metrics.
 */
export async function metricsRoutes(app: FastifyInstance, core: Latchkey, metrics: RequestMetrics): Promise<void> {
  app.addHook('onResponse', async (request, reply) => {
    metrics.count(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  app.get('/metrics', async (request, reply) => {
    // Any principal may read it, whatever its role.
    if (!core.config.metricsPublic) await authenticatePrincipal(core, request);
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics.render(core));
  });
}
