import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ProposalCreate } from '../../sdk/index.js';
import { runTool, type ToolContext } from '../context.js';
import { jsonResult, ToolInputError } from '../result.js';
import { capabilityArg, checkPath, connectionArg, METHODS } from './schemas.js';

/**
 * `request_access`: after a forbidden refusal, the agent asks a person for
 * the rule it needs (POST /v1/proposals). It never grants anything itself;
 * an operator approves or denies, and a second call with the same request
 * returns the pending proposal so the model can poll it.
 */
export function registerRequestAccess(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'request_access',
    {
      title: 'Request access',
      description:
        'Asks a person (a Latchkey operator) to let this agent make requests its policy refuses today. Use it after a "forbidden" refusal, ' +
        'naming the connection and either the capabilities or the methods and paths you need (path globs such as "/repos/**"), with a short ' +
        'honest reason. Nothing is granted until a person approves; the result is the proposal with its id and status ("pending"). ' +
        'Call it again with proposal_id to see whether it was approved or denied. Ask for as little as you need.',
      inputSchema: {
        proposal_id: z.string().min(1).max(200).regex(/^prop_[a-z0-9]+$/).optional().describe('Check a proposal you made earlier instead of making one.'),
        connection: connectionArg.optional(),
        capabilities: z.array(capabilityArg).min(1).max(50).optional().describe('Capabilities of the connection you need (or give methods/paths).'),
        methods: z.array(z.enum(METHODS)).min(1).max(10).optional().describe('HTTP methods you need; default any.'),
        paths: z
          .array(z.string().min(1).max(2048))
          .min(1)
          .max(20)
          .optional()
          .describe('Paths relative to the API base you need, "*" within a segment, "**" across segments (e.g. "/repos/acme/**"); default any.'),
        reason: z.string().min(1).max(1000).optional().describe('Why you need it, in one or two sentences; a person reads this.'),
      },
      annotations: { openWorldHint: false, destructiveHint: false },
    },
    (args) =>
      runTool(ctx, args.proposal_id === undefined ? `request_access ${args.connection ?? '?'}` : `request_access ${args.proposal_id}`, async () => {
        if (args.proposal_id !== undefined) return jsonResult(await ctx.client.proposals.get(args.proposal_id), ctx.redact);
        if (args.connection === undefined) throw new ToolInputError('give the connection you need access to (or proposal_id to check a proposal)');
        if (args.reason === undefined) throw new ToolInputError('give a reason: a person decides on it');
        for (const path of args.paths ?? []) {
          const problem = checkPath(path);
          if (problem !== undefined) throw new ToolInputError(problem);
        }
        const body: ProposalCreate = { connection: args.connection, reason: args.reason };
        if (args.capabilities !== undefined) body.capabilities = args.capabilities;
        if (args.methods !== undefined) body.methods = args.methods;
        if (args.paths !== undefined) body.paths = args.paths;
        return jsonResult(await ctx.client.proposals.create(body), ctx.redact);
      }),
  );
}
