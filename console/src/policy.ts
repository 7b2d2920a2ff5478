/**
 * The policy editor's check as you type: JSON, then the shape the server
 * reads (agents/policy.ts). The server checks again; this only says early
 * what it would refuse.
 */
const RULE_KEYS = ['connections', 'methods', 'paths', 'capabilities', 'mcpServers', 'tools'];
const LEASE_KEYS = ['allowed', 'maxTtl', 'rotate'];

function isStringList(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== '');
}

export function policyProblems(text: string): { policy?: unknown; problems: string[] } {
  if (text.trim() === '') return { problems: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { problems: [`not valid JSON: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const problems: string[] = [];
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { problems: ['the policy must be a JSON object'] };
  const raw = parsed as Record<string, unknown>;
  for (const key of Object.keys(raw)) if (key !== 'rules' && key !== 'lease') problems.push(`unknown field "${key}" (expected rules, lease)`);
  if (raw.rules !== undefined) {
    if (!Array.isArray(raw.rules)) problems.push('rules must be a list');
    else
      raw.rules.forEach((rule: unknown, i) => {
        if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
          problems.push(`rules[${i}] must be an object`);
          return;
        }
        const r = rule as Record<string, unknown>;
        for (const key of Object.keys(r)) if (!RULE_KEYS.includes(key)) problems.push(`rules[${i}]: unknown field "${key}"`);
        if (r.connections === undefined && r.mcpServers === undefined) problems.push(`rules[${i}].connections is required`);
        for (const key of RULE_KEYS) {
          if (r[key] !== undefined && !isStringList(r[key])) problems.push(`rules[${i}].${key} must be a non-empty list of strings`);
        }
        if (Array.isArray(r.paths) && r.paths.some((p) => typeof p === 'string' && !p.startsWith('/'))) problems.push(`rules[${i}].paths must start with "/"`);
      });
  }
  if (raw.lease !== undefined) {
    if (typeof raw.lease !== 'object' || raw.lease === null || Array.isArray(raw.lease)) problems.push('lease must be an object');
    else {
      const l = raw.lease as Record<string, unknown>;
      for (const key of Object.keys(l)) if (!LEASE_KEYS.includes(key)) problems.push(`lease: unknown field "${key}"`);
      if (l.allowed !== undefined && typeof l.allowed !== 'boolean') problems.push('lease.allowed must be true or false');
      if (l.rotate !== undefined && typeof l.rotate !== 'boolean') problems.push('lease.rotate must be true or false');
      if (l.maxTtl !== undefined && typeof l.maxTtl !== 'number' && !(typeof l.maxTtl === 'string' && /^\d+[smhd]?$/.test(l.maxTtl))) {
        problems.push('lease.maxTtl must be seconds or a duration such as "15m"');
      }
    }
  }
  return { policy: parsed, problems };
}
