import { randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import { LatchkeyApiError } from '../sdk/index.js';
import type { ToolContext } from './context.js';

interface ConnectLink {
  id: string;
  url: string;
  expiresAt: string;
}

/** Whether a refusal means a person must connect (or reconnect) the account, and which. */
export function needsPerson(err: unknown, connection: string): 'missing' | 'needs_reauth' | undefined {
  if (!(err instanceof LatchkeyApiError)) return undefined;
  if (err.code === 'needs_reauth') return 'needs_reauth';
  if (err.code === 'not_found' && err.message === `connection "${connection}" does not exist`) return 'missing';
  return undefined;
}

/**
 * Asks Latchkey, as the agent, for a connect link (POST /v1/connect-links):
 * reconnecting the connection in place, or connecting a missing one under
 * the name the agent asked for, from the provider of that name (Latchkey's
 * default connection name). The server allows it only for names the agent's
 * policy names. Undefined when it refuses.
 */
async function connectLink(ctx: ToolContext, connection: string, why: 'missing' | 'needs_reauth'): Promise<ConnectLink | undefined> {
  try {
    if (why === 'needs_reauth') return await ctx.client.http.json<ConnectLink>('POST', '/v1/connect-links', { body: { connection } });
    const me = await ctx.client.me();
    return await ctx.client.http.json<ConnectLink>('POST', '/v1/connect-links', { body: { provider: connection, name: connection, subject: me.name } });
  } catch (err) {
    ctx.log(`no connect link for ${connection}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/**
 * A tool call that needs a person to connect an account: a URL-mode
 * elicitation carrying a connect link when the host takes them (the call
 * fails with -32042 and the host shows the link), else a tool result with
 * the link in it. Undefined when no link could be made (the plain refusal stands).
 */
export async function offerConnection(ctx: ToolContext, connection: string, why: 'missing' | 'needs_reauth'): Promise<CallToolResult | undefined> {
  const link = await connectLink(ctx, connection, why);
  if (link === undefined) return undefined;
  const message =
    why === 'missing'
      ? `The account "${connection}" is not connected yet. Open this link to connect it, then try again.`
      : `The account "${connection}" must be reconnected (its grant was revoked or expired). Open this link to reconnect it, then try again.`;
  if (ctx.elicitsUrl()) {
    throw new UrlElicitationRequiredError([{ mode: 'url', message, url: link.url, elicitationId: link.id ?? randomUUID() }], message);
  }
  return {
    content: [
      {
        type: 'text',
        text: `${why === 'missing' ? 'not_connected' : 'needs_reauth'}: ${message}\nConnect link (single use, expires ${link.expiresAt}): ${link.url}\nShow this link to the person; retrying before they finish will fail the same way.`,
      },
    ],
    isError: true,
  };
}
