import type { FastifyInstance } from 'fastify';
import type { Latchkey } from '../latchkey.js';
import { requireAdmin } from './auth.js';

type Labels = Record<string, string>;

/** A tiny Prometheus text registry: counters only; gauges are read from the store at scrape time. */
export class Metrics {
  readonly #counters = new Map<string, { help: string; values: Map<string, number> }>();

  counter(name: string, help: string): void {
    if (!this.#counters.has(name)) this.#counters.set(name, { help, values: new Map() });
  }

  inc(name: string, labels: Labels, by = 1): void {
    const counter = this.#counters.get(name);
    if (counter === undefined) throw new Error(`unknown metric ${name}`);
    const key = formatLabels(labels);
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

/**
 * Counts every request by route pattern (never the concrete URL: connection
 * names and OAuth query strings stay out of metrics) and serves /metrics.
 */
export async function metricsRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  const metrics = new Metrics();
  metrics.counter(REQUESTS, 'HTTP requests by method, route pattern and status.');
  metrics.counter(DURATION, 'Total seconds spent answering HTTP requests, by route pattern.');
  const started = Date.now();

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.inc(REQUESTS, { method: request.method, route, status: String(reply.statusCode) });
    metrics.inc(DURATION, { route }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', async (request, reply) => {
    if (!core.config.metricsPublic) requireAdmin(request, core.adminToken);
    const byStatus = await core.store.connections.countByStatus();
    const memory = process.memoryUsage();
    const body = metrics.render([
      {
        name: 'latchkey_connections',
        help: 'Connections by status.',
        values: Object.entries(byStatus).map(([status, n]) => [{ status }, n]),
      },
      { name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', values: [[{}, memory.rss]] },
      { name: 'nodejs_heap_used_bytes', help: 'V8 heap in use, in bytes.', values: [[{}, memory.heapUsed]] },
      { name: 'latchkey_uptime_seconds', help: 'Seconds since this process started serving.', values: [[{}, (Date.now() - started) / 1000]] },
    ]);
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(body);
  });
}
