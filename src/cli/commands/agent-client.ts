import { Latchkey } from '../../sdk/index.js';
import { CliFailure, serverUrl, type GlobalOptions } from '../context.js';
import { lightFetch } from '../http-fetch.js';

/** The agent's client for agent commands: the key comes from LATCHKEY_AGENT_KEY, never a flag (flags end up in shell history). */
export function agentClient(options: GlobalOptions): Latchkey {
  const agentKey = process.env.LATCHKEY_AGENT_KEY;
  if (agentKey === undefined || agentKey === '') throw new CliFailure('no agent key: set LATCHKEY_AGENT_KEY');
  return new Latchkey({ url: serverUrl(options), agentKey, fetch: lightFetch });
}
