import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthenticatedAgent } from '../../agents/index.js';
import { AGENT_KEY_PATTERN } from '../../agents/keys.js';
import { NotFound, Unauthorized } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { createMcpServer } from '../../mcp/index.js';
import { authenticateMcpCaller, issueInternalCredential } from '../auth.js';
import { errorBody } from '../errors.js';
import type { McpAuthorizationServer } from './authorization-server.js';

export const PRM_PATH = '/.well-known/oauth-protected-resource/mcp';

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

/** Reads a JSON body up to `limit` bytes; undefined when it is not JSON. */
async function readJson(req: IncomingMessage, limit: number): Promise<{ tooLarge: boolean; value?: unknown }> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).byteLength;
    if (total > limit) return { tooLarge: true };
    chunks.push(chunk as Buffer);
  }
  try {
    return { tooLarge: false, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { tooLarge: false };
  }
}

/**
 * `/mcp`: MCP over Streamable HTTP, stateless (a fresh server and transport
 * per request, so any replica can answer any request). The caller is an OAuth
 * 2.1 protected resource client (RFC 9728 challenge on 401) or an agent key;
 * the tools run as that agent through this server's own REST routes.
 */
export function mcpEndpoint(core: Latchkey, as: McpAuthorizationServer, selfAddress: () => AddressInfo | string | null) {
  // Whether each host (agent and client) declared URL-mode elicitation when it initialized. Stateless
  // requests do not repeat it; a replica that did not see the initialize answers with a link in the result.
  const urlElicitation = new Map<string, boolean>();
  const remember = (key: string, message: unknown): void => {
    if (typeof message !== 'object' || message === null || (message as { method?: unknown }).method !== 'initialize') return;
    const capabilities = (message as { params?: { capabilities?: { elicitation?: { url?: unknown } } } }).params?.capabilities;
    urlElicitation.delete(key);
    urlElicitation.set(key, capabilities?.elicitation?.url !== undefined);
    if (urlElicitation.size > 10_000) urlElicitation.delete(urlElicitation.keys().next().value as string);
  };

  const challenge = (error?: string): Record<string, string> => ({
    'www-authenticate': `Bearer resource_metadata="${core.config.publicUrl}${PRM_PATH}"${error === undefined ? '' : `, error="${error}"`}`,
  });

  async function verifyToken(credential: string): Promise<AuthenticatedAgent | undefined> {
    // An agent key is never an access token (those are 43 characters, no prefix): no lookup for it.
    if (AGENT_KEY_PATTERN.test(credential)) return undefined;
    const holder = await as.verifyAccessToken(credential);
    if (holder === undefined) return undefined;
    try {
      const agent = await core.agents.get(holder.agentId);
      return { ...agent, keyId: 'mcp-oauth', mcpClient: holder.clientId };
    } catch (err) {
      // The agent was deleted: its clients' tokens die with it.
      if (err instanceof NotFound) return undefined;
      throw err;
    }
  }

  /** Where this server listens, as a loopback URL for the tools' SDK client. */
  function selfUrl(): string {
    const address = selfAddress();
    if (address === null || typeof address === 'string') throw new Error('the server is not listening on TCP');
    const host = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '[::1]' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let agent: AuthenticatedAgent;
    try {
      agent = await authenticateMcpCaller(core, req, verifyToken);
    } catch (err) {
      req.resume();
      const { status, body, headers } = errorBody(err);
      const hasCredential = req.headers.authorization !== undefined;
      send(res, status, body, err instanceof Unauthorized ? { ...headers, ...challenge(hasCredential ? 'invalid_token' : undefined) } : headers);
      return;
    }
    if (req.method !== 'POST') {
      // Stateless: no standalone server-to-client stream and no session to delete.
      req.resume();
      send(res, 405, { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server is stateless; POST JSON-RPC messages to /mcp' }, id: null }, { allow: 'POST' });
      return;
    }
    const body = await readJson(req, core.config.bodyLimit);
    if (body.tooLarge) {
      send(res, 413, { jsonrpc: '2.0', error: { code: -32600, message: 'request body is too large' }, id: null });
      return;
    }
    if (body.value === undefined) {
      send(res, 400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error: the body is not JSON' }, id: null });
      return;
    }
    const host = `${agent.id}|${agent.mcpClient ?? agent.keyId}`;
    remember(host, body.value);
    const internal = issueInternalCredential(core, agent);
    const server = createMcpServer({
      elicitsUrl: () => urlElicitation.get(host) === true,
      url: selfUrl(),
      agentKey: internal.credential,
      log: (line) => core.logger.info({ agent: agent.name, mcpClient: agent.mcpClient ?? null }, `mcp: ${line}`),
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      internal.release();
      transport.close().catch(() => undefined);
      server.close().catch(() => undefined);
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, body.value);
    } catch (err) {
      core.logger.error({ err }, 'the /mcp endpoint failed a request');
      send(res, 500, { jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null });
    }
  };
}
