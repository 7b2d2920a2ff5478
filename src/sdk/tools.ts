import type { Latchkey } from './agent.js';
import type { CapabilityView, InvokeRequest, MeView } from './types.js';

/**
 * The tools an agent may use, as plain data shared by the framework adapters
 * (`latchkey/ai`, `latchkey/langchain`): one per capability its policy grants
 * on each connection it may use (GET /v1/me), each calling
 * `POST /v1/invoke/{connection}/{capability}`. The server checks the policy
 * again on every call; the list only saves the model from asking for what it
 * would be refused.
 */
export interface CapabilityTool {
  /** `connection__capability`, reduced to what model APIs accept (letters, digits, `_`, `-`; at most 64). */
  name: string;
  description: string;
  connection: string;
  capability: string;
  /** JSON Schema of the arguments. */
  parameters: ToolParameters;
  execute(args: ToolArguments): Promise<unknown>;
}

/** POST /v1/invoke's body without `headers`: a model picks the request, never its headers. */
export type ToolArguments = Omit<InvokeRequest, 'headers'>;

export interface ToolParameters {
  type: 'object';
  additionalProperties: false;
  properties: Record<string, Record<string, unknown>>;
}

function toolName(connection: string, capability: string, taken: Set<string>): string {
  const base = `${connection}__${capability}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  let name = base;
  // Two names that reduce to the same text (a.b and a_b) stay apart.
  for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 60)}_${i}`;
  taken.add(name);
  return name;
}

function parametersOf(capability: CapabilityView): ToolParameters {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      method: { type: 'string', enum: capability.methods, description: `HTTP method (default ${capability.methods[0] ?? 'GET'})` },
      path: { type: 'string', description: `API path under ${capability.pathPrefixes.join(' or ')} (default ${capability.pathPrefixes[0] ?? '/'})` },
      query: { type: 'object', additionalProperties: { type: 'string' }, description: 'query parameters' },
      body: { description: 'JSON request body, for methods that send one' },
    },
  };
}

/** One tool per (connection, capability) the agent may invoke; `filter` narrows them. */
export async function capabilityTools(agent: Latchkey, filter: (connection: string, capability: string) => boolean = () => true): Promise<CapabilityTool[]> {
  const me: MeView = await agent.me();
  const taken = new Set<string>();
  const tools: CapabilityTool[] = [];
  for (const connection of me.connections) {
    for (const capability of connection.capabilities) {
      if (!filter(connection.name, capability.name)) continue;
      const method = capability.methods[0] ?? 'GET';
      tools.push({
        name: toolName(connection.name, capability.name, taken),
        description: `${capability.description ?? capability.name} (${connection.provider} connection "${connection.name}": ${capability.methods.join(', ')} ${capability.pathPrefixes.join(', ')})`,
        connection: connection.name,
        capability: capability.name,
        parameters: parametersOf(capability),
        execute: (args) =>
          agent.invoke(connection.name, capability.name, {
            method: args.method ?? method,
            ...(args.path === undefined ? {} : { path: args.path }),
            ...(args.query === undefined ? {} : { query: args.query }),
            ...(args.body === undefined ? {} : { body: args.body }),
          }),
      });
    }
  }
  return tools;
}
