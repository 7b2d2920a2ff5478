import type { Actor } from '../audit/index.js';

/** How an agent appears in audit events. */
export function agentActorOf(agent: { id: string; name: string }): Actor {
  return { type: 'agent', id: agent.id, name: agent.name };
}
