/**
 * `latchkey/langchain`: an agent's Latchkey capabilities as LangChain.js tools.
 *
 *   const tools = await latchkeyTools(new Latchkey({ url, agentKey }));
 *   const model = chatModel.bindTools(tools);
 *
 * `@langchain/core` is an optional peer dependency: only this entry point loads it.
 */
import { DynamicStructuredTool } from '@langchain/core/tools';
import type { Latchkey } from './agent.js';
import { capabilityTools, type ToolArguments } from './tools.js';

export type { CapabilityTool, ToolArguments } from './tools.js';

/** One `DynamicStructuredTool` per capability; a tool's result is the upstream answer as JSON text. */
export async function latchkeyTools(
  agent: Latchkey,
  options: { filter?: (connection: string, capability: string) => boolean } = {},
): Promise<DynamicStructuredTool[]> {
  return (await capabilityTools(agent, options.filter)).map(
    (t) =>
      new DynamicStructuredTool({
        name: t.name,
        description: t.description,
        schema: t.parameters,
        func: async (args: ToolArguments) => JSON.stringify(await t.execute(args)),
      }),
  );
}
