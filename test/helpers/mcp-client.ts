import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI_PATH, REPO_ROOT } from './latchkey-process.js';

export interface McpSession {
  client: Client;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  /** What `latchkey mcp` wrote on stderr so far. */
  stderr(): string;
  /** Errors of the transport (anything on stdout that is not JSON-RPC shows up here). */
  transportErrors: Error[];
  close(): Promise<void>;
}

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

/** The built `latchkey mcp` (dist/) on stdio, driven by the official MCP client, as an MCP host would. */
export async function startMcp(options: { url: string; agentKey: string; home: string }): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_PATH, 'mcp'],
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: options.home, LATCHKEY_URL: options.url, LATCHKEY_AGENT_KEY: options.agentKey },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'latchkey-test', version: '1.0.0' });
  const transportErrors: Error[] = [];
  client.onerror = (err) => transportErrors.push(err);
  await client.connect(transport);
  return {
    client,
    call: async (name, args) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    stderr: () => stderr,
    transportErrors,
    close: () => client.close(),
  };
}
