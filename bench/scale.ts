import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createTestDatabase } from '../test/helpers/pg.js';
import { startLatchkey, TEST_ADMIN_TOKEN } from '../test/helpers/latchkey-process.js';

/** Resident memory of a process, from /proc (Linux). */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.replace(/\D+/g, '') ?? 0) / 1024);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * `npm run bench -- scale [--connections 100000] [--api 5000] [--concurrency 16] [--database-url postgres://…]`:
 * a real `latchkey serve` (built dist/) on a fresh PostgreSQL database. The first
 * `--api` connections are imported through POST /v1/connections/import (sealed,
 * audited: the real path), which gives the import rate; the rest are copied in
 * bulk in the database from one imported row (other id, name, subject,
 * environment and expiry; no tokens: listing never opens them), which is what
 * makes 100,000 take seconds. Then it prints the latency of list pages (first,
 * deep, filtered, the largest) and the server's resident memory before and after.
 */
export async function scaleBench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      connections: { type: 'string', default: '100000' },
      concurrency: { type: 'string', default: '16' },
      api: { type: 'string', default: '5000' },
      'database-url': { type: 'string' },
    },
  });
  const total = Number(values.connections);
  const viaApi = Math.min(total, Number(values.api));
  const concurrency = Number(values.concurrency);
  const pgServer = values['database-url'] ?? process.env.LATCHKEY_TEST_DATABASE_URL;
  if (pgServer === undefined) throw new Error('the scale bench runs on PostgreSQL: give --database-url or set LATCHKEY_TEST_DATABASE_URL');
  process.env.LATCHKEY_TEST_DATABASE_URL = pgServer;
  const db = await createTestDatabase();
  const lk = await startLatchkey({ env: { DATABASE_URL: db.url, LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_REFRESHER_INTERVAL: '0' } });
  const pid = lk.child.pid as number;
  const headers = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; bytes: number; body: unknown }> => {
    const res = await fetch(lk.url + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, bytes: Buffer.byteLength(text), body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
  };
  try {
    const created = await call('POST', '/v1/providers', { name: 'bench', authorizationEndpoint: 'https://auth.example.com/authorize', tokenEndpoint: 'https://auth.example.com/token', clientId: 'bench', apiBaseUrl: 'https://api.example.com' });
    if (created.status !== 201) throw new Error(`provider: ${JSON.stringify(created.body)}`);
    const rssStart = rssMb(pid);
    process.stdout.write(`importing ${viaApi} connections through the API with ${concurrency} concurrent requests…\n`);
    const started = performance.now();
    const now = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < viaApi; i = next++) {
          const res = await call('POST', '/v1/connections/import', {
            name: `conn-${String(i).padStart(7, '0')}`,
            provider: 'bench',
            subject: `user-${i % 1000}`,
            environment: i % 10 === 0 ? 'staging' : 'default',
            accessToken: `at-${i}`,
            refreshToken: `rt-${i}`,
            // A spread of expiries: 1% within the hour.
            expiresAt: new Date(now + (i % 100 === 0 ? 1800 : 7200 + (i % 86_400)) * 1000).toISOString(),
          });
          if (res.status !== 201) throw new Error(`import ${i}: ${res.status} ${JSON.stringify(res.body)}`);
          if (i > 0 && i % 1000 === 0) process.stdout.write(`  ${i} (${Math.round(i / ((performance.now() - started) / 1000))}/s)\n`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const rssImported = rssMb(pid);
    let bulkSeconds = 0;
    if (total > viaApi) {
      process.stdout.write(`copying ${total - viaApi} more in the database…\n`);
      const bulkStarted = performance.now();
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        // Every column of the template row, with these overridden: whatever columns later migrations add come along.
        await client.query(
          `insert into connections
           select (jsonb_populate_record(c, jsonb_build_object(
             'id', 'conn_bulk' || lpad(g::text, 8, '0'),
             'name', 'conn-' || lpad(g::text, 7, '0'),
             'subject', 'user-' || (g % 1000),
             'environment', case when g % 10 = 0 then 'staging' else 'default' end,
             'tokens', null,
             'expires_at', to_char((now() + make_interval(secs => case when g % 100 = 0 then 1800 else 7200 + g % 86400 end)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
           ))).*
           from connections c, generate_series($1::int, $2::int) g
           where c.name = 'conn-0000000'`,
          [viaApi, total - 1],
        );
      } finally {
        await client.end();
      }
      bulkSeconds = (performance.now() - bulkStarted) / 1000;
    }
    const rssBulk = rssMb(pid);

    // A cursor half-way: walk there with the largest pages.
    let cursor = '';
    for (let seen = 0; seen < total / 2; seen += 1000) {
      const page = (await call('GET', `/v1/connections?limit=1000&cursor=${cursor}`)).body as { nextCursor: string | null };
      cursor = page.nextCursor ?? '';
    }
    const cases: Array<[string, string]> = [
      ['first page, bare (100)', '/v1/connections'],
      ['first page (limit=100)', '/v1/connections?limit=100'],
      ['middle page (cursor)', `/v1/connections?limit=100&cursor=${cursor}`],
      ['largest page (limit=1000)', '/v1/connections?limit=1000'],
      ['subject=user-7 (100 rows)', '/v1/connections?subject=user-7&limit=100'],
      ['environment=staging', '/v1/connections?environment=staging&limit=100'],
      ['status=active', '/v1/connections?status=active&limit=100'],
      ['expiring within 1h (1%)', '/v1/connections?expiringWithin=1h&limit=100'],
    ];
    const lines: string[] = [];
    for (const [label, path] of cases) {
      const times: number[] = [];
      let bytes = 0;
      for (let r = 0; r < 30; r++) {
        const t = performance.now();
        const res = await call('GET', path);
        times.push(performance.now() - t);
        if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
        bytes = res.bytes;
      }
      times.sort((a, b) => a - b);
      lines.push(`| ${label} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 95).toFixed(1)} | ${Math.round(bytes / 1024)} KB |`);
    }
    const rssListed = rssMb(pid);
    // How PostgreSQL runs the page queries (the shape store/keyset.ts builds): each filter on an index of 0020.
    const plans: string[] = [];
    const explain = new pg.Client({ connectionString: db.url });
    await explain.connect();
    try {
      await explain.query('analyze connections');
      const page = (where: string): string => `select * from connections where ${where} ("name") > ('conn-0050000') order by "name" asc limit 101`;
      for (const [label, where] of [
        ['middle page', ''],
        ['subject', `subject = 'user-7' and`],
        ['environment', `environment = 'staging' and`],
        ['status', `status = 'active' and`],
        ['expiring', `expires_at is not null and expires_at <= to_char(now() at time zone 'UTC' + interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') and`],
      ] as const) {
        const { rows } = await explain.query<{ 'QUERY PLAN': string }>(`explain ${page(where)}`);
        plans.push(`${label}: ${rows.map((r) => r['QUERY PLAN'].trim()).filter((l) => /Scan|Sort/.test(l)).join(' / ')}`);
      }
    } finally {
      await explain.end();
    }
    process.stdout.write(
      [
        '',
        `imported ${viaApi} connections through the API in ${seconds.toFixed(1)} s: ${Math.round(viaApi / seconds)} connections/s (${concurrency} concurrent imports)`,
        ...(total > viaApi ? [`copied ${total - viaApi} more in the database in ${bulkSeconds.toFixed(1)} s (${total} in all)`] : []),
        `server RSS: ${rssStart} MB at start, ${rssImported} MB after the API import, ${rssBulk} MB with ${total} connections, ${rssListed} MB after 240 list pages`,
        '',
        '| list | p50 ms | p95 ms | body |',
        '|---|---|---|---|',
        ...lines,
        '',
        ...plans,
        '',
      ].join('\n'),
    );
  } finally {
    await lk.stop();
    await db.drop();
  }
}
