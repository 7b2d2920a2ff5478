import type { Command } from 'commander';
import { capabilitySegment, connectionSegment } from '../../sdk/paths.js';
import { UsageError, jsonFlag, type GlobalOptions } from '../context.js';
import { printText, sayError } from '../output.js';
import { agentClient } from './agent-client.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function params(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param ${p}: give k=v`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

function print(text: string): void {
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: print as it came
  }
  printText(shown);
}

export function invokeCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('invoke <target> [method] [path]')
    .description('call an API through Latchkey as an agent (LATCHKEY_AGENT_KEY): CONNECTION/CAPABILITY or CONNECTION METHOD PATH')
    .option('--param <k=v>', 'query parameter (repeatable)', collect)
    .option('--data <json>', 'request body (JSON)')
    .action(async (target: string, method: string | undefined, path: string | undefined, o: { param?: string[]; data?: string }) => {
      // Every flag is checked before the agent key is read or anything is sent: bad usage exits 2.
      const query = params(o.param ?? []);
      const data = o.data === undefined ? undefined : jsonFlag('--data', o.data);
      if (method === undefined && target.indexOf('/') <= 0) throw new UsageError('give CONNECTION/CAPABILITY, or CONNECTION METHOD PATH');
      if (method !== undefined && path === undefined) throw new UsageError('give the PATH after the METHOD');
      const client = agentClient(globals());
      let response: Response;
      if (method === undefined || path === undefined) {
        const slash = target.indexOf('/');
        response = await client.http.raw('POST', `/v1/invoke/${connectionSegment(target.slice(0, slash))}/${capabilitySegment(target.slice(slash + 1))}`, {
          body: { query, ...(data === undefined ? {} : { body: data }) },
        });
      } else {
        const search = new URLSearchParams(query).toString();
        response = await client.fetch(target, search === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${search}`, {
          method: method.toUpperCase(),
          ...(o.data === undefined ? {} : { body: o.data, headers: { 'content-type': 'application/json' } }),
        });
      }
      const text = await response.text();
      if (!response.ok) {
        if (!response.headers.has('latchkey-connection')) {
          let message = text;
          try {
            const body = JSON.parse(text) as { error?: string; message?: string };
            message = `${body.message ?? text} (${body.error ?? response.status})`;
          } catch {
            // not JSON
          }
          sayError`latchkey: ${message}\n`;
        } else {
          process.stderr.write(`latchkey: the API answered ${response.status}\n`);
          print(text);
        }
        process.exitCode = 1;
        return;
      }
      print(text);
    });
}
