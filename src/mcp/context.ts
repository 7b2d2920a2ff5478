import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Latchkey } from '../sdk/index.js';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import { needsPerson, offerConnection } from './connect-offer.js';
import { errorResult, type BodyLimits, type Redact } from './result.js';

/** What every tool needs: the agent's client and the rules for what may reach the host. */
export interface ToolContext {
  client: Latchkey;
  redact: Redact;
  limits: BodyLimits;
  /** One line to stderr (stdout belongs to JSON-RPC); already redacted by the caller's logger. */
  log: (line: string) => void;
  /** Whether the host declared URL-mode elicitation (then a missing account is offered as one). */
  elicitsUrl: () => boolean;
}

/** Runs a tool body so that any failure becomes an isError result, logged in one line without secrets. */
export async function runTool(ctx: ToolContext, label: string, body: () => Promise<CallToolResult>, connection?: string): Promise<CallToolResult> {
  let result: CallToolResult;
  try {
    result = await body();
  } catch (err) {
    const why = connection === undefined ? undefined : needsPerson(err, connection);
    try {
      result = (why === undefined ? undefined : await offerConnection(ctx, connection as string, why)) ?? errorResult(err, ctx.redact);
    } catch (offer) {
      if (offer instanceof UrlElicitationRequiredError) ctx.log(`${label} -> elicitation: a person must connect ${connection ?? ''}`);
      throw offer;
    }
  }
  const first = result.content[0];
  const summary = first?.type === 'text' ? (first.text.split('\n', 1)[0] ?? '') : '';
  ctx.log(`${label} -> ${result.isError ? 'error: ' : ''}${summary.slice(0, 200)}`);
  return result;
}

/** Query values as strings: models often pass numbers and booleans. */
export function queryStrings(query: Record<string, string | number | boolean> | undefined): Record<string, string> | undefined {
  if (query === undefined) return undefined;
  return Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)]));
}
