import type { Command } from 'commander';
import { UsageError, type GlobalOptions } from '../context.js';
import { printJson, printList, printText } from '../output.js';
import { agentClient } from './agent-client.js';

/** `latchkey mcp-tools list|call`: an agent's view of the upstream MCP servers' tools (LATCHKEY_AGENT_KEY). */
export function register(program: Command, globals: () => GlobalOptions): void {
  const tools = program.command('mcp-tools').description("call upstream MCP servers' tools through Latchkey as an agent (LATCHKEY_AGENT_KEY)");

  tools
    .command('list')
    .description('the tools of upstream MCP servers this agent may call, as server__tool')
    .action(async () => {
      const list = agentClient(globals()).mcpTools.iterate();
      await printList(globals().json === true, list, ['name', 'description'], (t) => [t.name, t.description.split('\n', 1)[0]?.slice(0, 100)]);
    });

  tools
    .command('call <tool>')
    .description('call SERVER__TOOL (or SERVER/TOOL) with --arguments JSON')
    .option('--arguments <json>', 'the tool arguments as a JSON object', '{}')
    .option('--connection <name>', 'the connection to call through, when the server has several')
    .action(async (name: string, o: { arguments: string; connection?: string }) => {
      const at = name.includes('/') ? name.indexOf('/') : name.indexOf('__');
      if (at <= 0) throw new UsageError('give the tool as SERVER__TOOL or SERVER/TOOL');
      const server = name.slice(0, at);
      const tool = name.slice(at + (name.includes('/') ? 1 : 2));
      let args: unknown;
      try {
        args = JSON.parse(o.arguments);
      } catch {
        throw new UsageError('--arguments must be a JSON object');
      }
      if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new UsageError('--arguments must be a JSON object');
      const result = await agentClient(globals()).mcpTools.call(server, tool, {
        arguments: args as Record<string, unknown>,
        ...(o.connection === undefined ? {} : { connection: o.connection }),
      });
      if (globals().json) printJson(result);
      else printText(result.content.map((c) => (c.type === 'text' ? (c.text ?? '') : `(${c.type} content)`)).join('\n'));
      // The tool failed: exit 1 either way, so a script's `if` agrees with what a person sees (the result is still printed).
      if (result.isError === true) process.exitCode = 1;
    });
}
