import type { Command } from 'commander';
import { parseDuration } from '../../duration.js';
import { adminClient, CliFailure, UsageError, type GlobalOptions } from '../context.js';
import { iteratePages } from '../../sdk/index.js';
import { printJson, printJsonLine, printList, printRow, say } from '../output.js';

/** The first `n` items of an async sequence (stops asking for pages after them). */
async function* take<T>(items: AsyncIterable<T>, n: number): AsyncGenerator<T> {
  if (n <= 0) return;
  let count = 0;
  for await (const item of items) {
    yield item;
    if (++count >= n) return;
  }
}

interface AuditEventView {
  id: string;
  at: string;
  actor: { type: string; id: string | null; name: string | null };
  action: string;
  connection: string | null;
  outcome: string;
  status: number | null;
  detail: Record<string, unknown>;
}

type VerifyView = { ok: boolean; events: number; checkpoints?: number; unkeyed?: number; broken?: { chainId: string; seq: number; id: string | null; reason: string } };

function summary(detail: Record<string, unknown>): string {
  const { method, host, path, reason } = detail;
  if (typeof method === 'string' && typeof path === 'string') return `${method} ${typeof host === 'string' ? host : ''}${path}`;
  return typeof reason === 'string' ? reason : '';
}

function rows(events: AuditEventView[]) {
  return events.map((e) => [e.at, e.actor.name ?? e.actor.type, e.action, e.connection, e.outcome, e.status, summary(e.detail)]);
}

const HEADERS = ['at', 'actor', 'action', 'connection', 'outcome', 'status', 'detail'];

export function auditCommand(program: Command, globals: () => GlobalOptions): void {
  const audit = program
    .command('audit')
    .description('show the audit log (newest first), or follow it')
    .option('--agent <agent>', 'only this agent (name or id)')
    .option('--connection <connection>', 'only this connection')
    .option('--action <action>', 'only this action, e.g. proxy.request')
    .option('--limit <n>', 'at most this many events', '100')
    .option('--follow', 'keep printing new events')
    .action(async (o: { agent?: string; connection?: string; action?: string; limit: string; follow?: boolean }) => {
      const limit = Number(o.limit);
      if (!/^\d{1,9}$/.test(o.limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
      const client = adminClient(globals());
      const filter = { agent: o.agent, connection: o.connection, action: o.action };
      if (!o.follow) {
        // Page by page (at most 1,000 an answer) until --limit events are printed.
        const pages = iteratePages<AuditEventView>(client.http, '/v1/audit', filter, { limit: Math.min(limit, 1000) });
        return printList(globals().json === true, take(pages, limit), HEADERS, (e) => rows([e])[0] ?? []);
      }
      const query = { ...filter, limit: Math.min(limit, 1000) };
      const events = await client.http.json<AuditEventView[]>('GET', '/v1/audit', { query });
      const seen = new Set(events.map((e) => e.id));
      let since = events[0]?.at ?? new Date().toISOString();
      const show = (e: AuditEventView): void => (globals().json ? printJsonLine(e) : printRow(rows([e])[0] ?? []));
      for (const e of [...events].reverse()) show(e);
      for (;;) {
        await new Promise((r) => setTimeout(r, 1000));
        const fresh = (await client.http.json<AuditEventView[]>('GET', '/v1/audit', { query: { ...query, since } })).reverse();
        for (const e of fresh) {
          if (seen.has(e.id)) continue;
          seen.add(e.id);
          since = e.at;
          show(e);
        }
      }
    });

  audit
    .command('prune')
    .description('delete events older than a time or age; verify still checks what is kept')
    .requiredOption('--before <time>', 'an ISO 8601 time, or an age such as 90d or 12h')
    .action(async (o: { before: string }) => {
      const seconds = parseDuration(o.before);
      const before = seconds === undefined ? o.before : new Date(Date.now() - seconds * 1000).toISOString();
      if (seconds === undefined && Number.isNaN(new Date(o.before).getTime())) {
        throw new UsageError('--before must be an ISO 8601 time or an age such as 90d');
      }
      const result = await adminClient(globals()).http.json<{ before: string; events: number; chains: number }>('POST', '/v1/audit/prune', {
        body: { before },
      });
      if (globals().json) return printJson(result);
      say`pruned ${result.events} event(s) from ${result.chains} chain(s), older than ${result.before}\n`;
    });

  audit
    .command('verify')
    .description('check the keyed chain and its checkpoints: an edited, deleted or truncated event is reported')
    .action(async () => {
      const result = await adminClient(globals()).http.json<VerifyView>('GET', '/v1/audit/verify');
      if (globals().json) printJson(result);
      if (result.ok) {
        if (globals().json) return;
        const checked = result.checkpoints === undefined ? '' : `, ${result.checkpoints} checkpoint(s) checked`;
        const unkeyed = result.unkeyed ? `, ${result.unkeyed} chain(s) unkeyed (written before keyed chains)` : '';
        say`audit log intact: ${result.events} event(s) verified${checked}${unkeyed}\n`;
        return;
      }
      const b = result.broken;
      throw new CliFailure(`audit log broken in chain ${b?.chainId} at event ${b?.seq}${b?.id ? ` (${b.id})` : ''}: ${b?.reason}`);
    });
}
