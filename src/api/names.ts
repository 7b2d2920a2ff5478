/**
 * The name rules of the REST contract, one place for every side that checks
 * a name: the connection registry when a name is chosen, the server when a
 * name arrives in a URL, the SDK before it puts one in a URL, and the MCP
 * tool schemas. A name that passes can never be a dot segment, a slash or a
 * control character, so no client can resolve it into another route.
 */

/** Connection names (and ids, `conn_…`): a letter or digit, then letters, digits, ".", "_" or "-"; at most 128. */
export const CONNECTION_NAME_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$';
/** Capability names: a letter or digit, then letters, digits, ".", "_" or "-"; at most 128. */
export const CAPABILITY_NAME_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$';

const CONNECTION_NAME = new RegExp(CONNECTION_NAME_PATTERN);
const CAPABILITY_NAME = new RegExp(CAPABILITY_NAME_PATTERN);

export const CONNECTION_NAME_RULE = 'a connection name is letters, digits, ".", "_" or "-", starting with a letter or digit (at most 128 characters)';
export const CAPABILITY_NAME_RULE = 'a capability name is letters, digits, ".", "_" or "-", starting with a letter or digit (at most 128 characters)';

/** Whether `name` may name (or, as `conn_…`, identify) a connection. */
export function isConnectionName(name: string): boolean {
  return CONNECTION_NAME.test(name);
}

export function isCapabilityName(name: string): boolean {
  return CAPABILITY_NAME.test(name);
}
