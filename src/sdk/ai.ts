/**
 * `latchkey/ai`: an agent's Latchkey capabilities as Vercel AI SDK tools.
 *
 *   const tools = await latchkeyTools(new Latchkey({ url, agentKey }));
 *   await generateText({ model, tools, prompt });
 *
 * `ai` is an optional peer dependency: only this entry point loads it.
 */
import { jsonSchema, tool, type Tool } from 'ai';
import type { Latchkey } from './agent.js';
import { capabilityTools, type ToolArguments } from './tools.js';

export type { CapabilityTool, ToolArguments } from './tools.js';

/** `{ [toolName]: Tool }` for `generateText({ tools })`; each call goes through POST /v1/invoke. */
export async function latchkeyTools(
  agent: Latchkey,
  options: { filter?: (connection: string, capability: string) => boolean } = {},
): Promise<Record<string, Tool<ToolArguments, unknown>>> {
  const tools: Record<string, Tool<ToolArguments, unknown>> = {};
  for (const t of await capabilityTools(agent, options.filter)) {
    tools[t.name] = tool<ToolArguments, unknown>({
      description: t.description,
      inputSchema: jsonSchema<ToolArguments>(t.parameters),
      execute: (args) => t.execute(args),
    });
  }
  return tools;
}
