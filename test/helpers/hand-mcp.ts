import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One JSON-RPC request (not a notification) that reached a hand-written upstream, with the bearer token it carried. */
export interface HandMcpRequest {
  id: number | string;
  method: string;
  params?: { name?: string; protocolVersion?: string; cursor?: string };
  token: string;
}

/**
 * Answers a request other than `initialize`: the returned `{result}` or `{error}` is sent as JSON; `undefined`
 * means the handler answered on `res` itself (a body too large, an endless stream, …).
 */
export type HandMcpHandler = (request: HandMcpRequest, res: ServerResponse) => { result: unknown } | { error: { code: number; message: string } } | undefined;

export interface HandMcp {
  /** The MCP endpoint, `http://127.0.0.1:PORT/mcp`. */
  url: string;
  server: Server;
  close(): void;
}

/**
 * A minimal upstream MCP server written by hand, so a test can make it break
 * the rules the SDK's server would keep: JSON answers, no sessions, Protected
 * Resource Metadata naming `issuer`, notifications accepted, `initialize`
 * answered, everything else left to `handle`. It checks no token.
 */
export async function startHandMcp(issuer: string, label: string, handle: HandMcpHandler): Promise<HandMcp> {
  let base = '';
  const json = (res: ServerResponse, body: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', base).pathname;
    if (path === '/.well-known/oauth-protected-resource/mcp') {
      json(res, { resource: `${base}/mcp`, authorization_servers: [issuer] });
      return;
    }
    if (path !== '/mcp' || req.method !== 'POST') {
      req.resume();
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<HandMcpRequest, 'token' | 'id'> & { id?: number | string };
    if (message.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const { id } = message;
    if (message.method === 'initialize') {
      json(res, { jsonrpc: '2.0', id, result: { protocolVersion: message.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: label, version: '1.0.0' } } });
      return;
    }
    const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const reply = handle({ ...message, id, token }, res);
    if (reply !== undefined) json(res, { jsonrpc: '2.0', id, ...reply });
  }

  const server = createServer((req, res) => {
    answer(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/mcp`,
    server,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
