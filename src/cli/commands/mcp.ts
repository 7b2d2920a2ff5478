import type { Command } from 'commander';
import { UsageError, serverUrl, type GlobalOptions } from '../context.js';
import { VERSION } from '../registry.js';

export function mcpCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('mcp')
    .description("MCP server on stdio for agent hosts: exposes this agent's connections and capabilities as tools (LATCHKEY_AGENT_KEY)")
    .option('--agent-key <key>', 'agent key (prefer LATCHKEY_AGENT_KEY: command lines show up in process lists)')
    .action(async (o: { agentKey?: string }) => {
      const agentKey = o.agentKey || process.env.LATCHKEY_AGENT_KEY;
      if (agentKey === undefined || agentKey === '') {
        throw new UsageError('no agent key: set LATCHKEY_AGENT_KEY or pass --agent-key (mcp runs as an agent, never with the admin token)');
      }
      // The admin token would bypass no policy (agent routes refuse it) but it must not sit in an agent host's config either.
      if (agentKey === process.env.LATCHKEY_ADMIN_TOKEN) throw new UsageError('that is the admin token; mcp needs an agent key (latchkey agents create)');
      const url = serverUrl(globals());
      let origin: string;
      try {
        const parsed = new URL(url);
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
        origin = parsed.origin;
      } catch {
        throw new UsageError('LATCHKEY_URL (or --url) must be an http(s) URL');
      }
      // stdout carries JSON-RPC only: a stray console.log from anywhere would corrupt the stream.
      console.log = console.error;
      console.info = console.error;
      console.debug = console.error;
      process.stderr.write(`latchkey mcp: serving tools over stdio for Latchkey at ${origin}\n`);
      // Loaded here so that other commands do not pay for the MCP SDK at start.
      const { runMcpStdio } = await import('../../mcp/index.js');
      await runMcpStdio({ url, agentKey, version: program.version() ?? VERSION });
    });
}
