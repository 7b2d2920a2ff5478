import type { Command } from 'commander';
import { CliFailure, UsageError, serverUrl, type GlobalOptions } from '../context.js';
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
      const origin = new URL(url).origin;
      // Checked now, with one request: a host that starts us with a wrong URL or key gets a clear
      // line in its MCP log, not a server that fails on every tool call.
      const { Latchkey, LatchkeyApiError, LatchkeyConnectionError } = await import('../../sdk/index.js');
      try {
        await new Latchkey({ url, agentKey }).me();
      } catch (err) {
        if (err instanceof LatchkeyConnectionError) {
          throw new CliFailure(`cannot reach Latchkey at ${origin} (set LATCHKEY_URL to the server's URL; is \`latchkey serve\` running?)`);
        }
        if (err instanceof LatchkeyApiError && (err.status === 401 || err.status === 429)) {
          throw new CliFailure(`the server at ${origin} does not accept this agent key (${err.code}): check LATCHKEY_AGENT_KEY`);
        }
        if (err instanceof LatchkeyApiError && err.status === 404) {
          throw new CliFailure(`${origin} does not answer like a Latchkey server (GET /v1/me: 404): check LATCHKEY_URL`);
        }
        throw err;
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
