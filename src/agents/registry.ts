import type { Clock } from '../clock.js';
import { checkEnvironment } from '../connections/index.js';
import { Conflict, InvalidRequest, NotFound, Unauthorized } from '../errors.js';
import { newId } from '../ids.js';
import { isUniqueViolation, type AgentRow, type Json, type Keyset, type Store } from '../store/index.js';
import { AGENT_KEY_PATTERN, generateAgentKey, hashAgentKey, sameHash } from './keys.js';
import { readCache } from './read-cache.js';
import { parsePolicy, type Policy } from './policy.js';

export interface Agent {
  id: string;
  name: string;
  environment: string;
  policy: Policy;
  createdAt: string;
  updatedAt: string;
}

export interface AgentKeyView {
  id: string;
  createdAt: string;
}

/** An agent authenticated by one of its keys. */
export interface AuthenticatedAgent extends Agent {
  keyId: string;
}

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/;

function fromRow(row: AgentRow): Agent {
  return { ...row, policy: parsePolicy(row.policy) };
}

export function agentRegistry(deps: { store: Store; clock: Clock }) {
  const { store, clock } = deps;
  const byKeyHash = readCache((hash: string) => store.agentKeys.findByHash(hash));
  // The parsed agent per cached row: parsing the policy on every request cost more than the lookup.
  // Keyed by the row object, so it lives exactly as long as the read-cache entry.
  const authenticated = new WeakMap<object, AuthenticatedAgent>();

  async function get(idOrName: string): Promise<Agent> {
    const row = idOrName.startsWith('agt_') ? await store.agents.findById(idOrName) : await store.agents.findByName(idOrName);
    if (row === undefined) throw new NotFound(`agent "${idOrName}" does not exist`);
    return fromRow(row);
  }

  async function addKey(agentId: string): Promise<{ id: string; apiKey: string; createdAt: string }> {
    const { key, hash } = generateAgentKey();
    const row = { id: newId('key'), agentId, keyHash: hash, createdAt: clock.now().toISOString() };
    await store.agentKeys.insert(row);
    return { id: row.id, apiKey: key, createdAt: row.createdAt };
  }

  /** Creates the agent and its first key; the key is returned here only. */
  async function create(input: { name: string; environment?: string; policy?: unknown }): Promise<{ agent: Agent; key: { id: string; apiKey: string } }> {
    if (!NAME_PATTERN.test(input.name)) {
      throw new InvalidRequest('agent name must be letters, digits, ".", "_" or "-" (at most 63 characters)');
    }
    if (input.name.startsWith('agt_')) throw new InvalidRequest('agent names may not start with "agt_" (reserved for ids)');
    const environment = checkEnvironment(input.environment ?? 'default');
    const policy = parsePolicy(input.policy);
    const now = clock.now().toISOString();
    const row: AgentRow = { id: newId('agt'), name: input.name, environment, policy: policy as unknown as Json, createdAt: now, updatedAt: now };
    if ((await store.agents.findByName(input.name)) !== undefined) throw new Conflict(`agent "${input.name}" already exists`);
    try {
      await store.agents.insert(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`agent "${input.name}" already exists`);
      throw err;
    }
    const key = await addKey(row.id);
    return { agent: fromRow(row), key: { id: key.id, apiKey: key.apiKey } };
  }

  async function updatePolicy(idOrName: string, policyInput: unknown): Promise<Agent> {
    const agent = await get(idOrName);
    const policy = parsePolicy(policyInput);
    const now = clock.now().toISOString();
    await store.agents.updatePolicy(agent.id, policy as unknown as Json, now);
    byKeyHash.clear();
    return { ...agent, policy, updatedAt: now };
  }

  /** Deletes the agent and its keys (they stop working at once) and ends its leases. */
  async function remove(idOrName: string): Promise<Agent> {
    const agent = await get(idOrName);
    await store.agents.remove(agent.id);
    byKeyHash.clear();
    await store.leases.endForAgent(agent.id, clock.now().toISOString());
    return agent;
  }

  async function listKeys(idOrName: string): Promise<AgentKeyView[]> {
    const agent = await get(idOrName);
    return (await store.agentKeys.listForAgent(agent.id)).map((k) => ({ id: k.id, createdAt: k.createdAt }));
  }

  async function removeKey(idOrName: string, keyId: string): Promise<Agent> {
    const agent = await get(idOrName);
    if (!(await store.agentKeys.remove(agent.id, keyId))) throw new NotFound(`agent "${agent.name}" has no key ${keyId}`);
    byKeyHash.clear();
    return agent;
  }

  /**
   * Finds the agent for a presented key. The key is looked up by its SHA-256
   * (only hashes are stored) and the stored hash compared in constant time.
   */
  async function authenticate(presented: string | undefined): Promise<AuthenticatedAgent> {
    if (presented === undefined || !AGENT_KEY_PATTERN.test(presented)) throw new Unauthorized('a valid agent key is required');
    const hash = hashAgentKey(presented);
    const found = await byKeyHash.get(hash);
    if (found === undefined || !sameHash(found.key.keyHash, hash)) throw new Unauthorized('a valid agent key is required');
    let agent = authenticated.get(found);
    if (agent === undefined) {
      agent = { ...fromRow(found.agent), keyId: found.key.id };
      authenticated.set(found, agent);
    }
    return agent;
  }

  return {
    get,
    list: async (page?: Keyset): Promise<Agent[]> => (await store.agents.list(page)).map(fromRow),
    create,
    updatePolicy,
    remove,
    addKey: async (idOrName: string) => addKey((await get(idOrName)).id),
    listKeys,
    removeKey,
    authenticate,
  };
}

export type AgentRegistry = ReturnType<typeof agentRegistry>;
