import type { FastifyInstance } from 'fastify';
import { API_VERSION, STATUS_ATTENTION_MAX, statusResponse, type StatusView } from '../../api/index.js';
import type { Latchkey } from '../../latchkey.js';
import { providerHealth } from '../../providers/index.js';

/** Connection statuses a person must act on: reconnect (needs_reauth) or look at the error. */
const NEEDS_A_PERSON = ['needs_reauth', 'error'] as const;

/** `GET /v1/status`: the overview behind `latchkey status` (api/status.ts). */
export async function statusRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  const health = providerHealth(core);
  app.get('/v1/status', { schema: { response: { 200: statusResponse } }, config: { role: 'viewer' } }, async (): Promise<StatusView> => {
    const [keys, byStatus, providers, faults] = await Promise.all([
      core.store.keys.listKeys(),
      core.store.connections.countByStatus(),
      core.providers.list(),
      health.list(),
    ]);
    const attention: StatusView['attention'] = [];
    const providerName = new Map(providers.map((p) => [p.id, p.name]));
    for (const provider of providers) {
      const fault = faults.get(provider.id);
      if (fault !== undefined) attention.push({ kind: 'provider', name: provider.name, status: 'misconfigured', reason: fault.reason });
    }
    for (const status of NEEDS_A_PERSON) {
      const room = STATUS_ATTENTION_MAX - attention.length;
      if ((byStatus[status] ?? 0) === 0 || room <= 0) continue;
      // Only the rows that fit are read: the counts above already say how many there are in all.
      for (const c of await core.store.connections.list({ status }, { limit: room })) {
        attention.push({ kind: 'connection', name: c.name, provider: providerName.get(c.providerId) ?? c.providerId, status, reason: c.lastError });
      }
    }
    const keysByStatus: Record<string, number> = {};
    for (const key of keys) keysByStatus[key.status] = (keysByStatus[key.status] ?? 0) + 1;
    return {
      version: API_VERSION,
      database: { kind: core.store.db.dialect },
      keys: {
        activeKeyId: keys.find((k) => k.status === 'active')?.id ?? null,
        total: keys.length,
        byStatus: keysByStatus,
        masterKey: core.config.masterKey === undefined ? 'file' : 'env',
      },
      connections: { total: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus },
      attention,
      needsAttention: faults.size > 0 || NEEDS_A_PERSON.some((s) => (byStatus[s] ?? 0) > 0) || !keys.some((k) => k.status === 'active'),
    };
  });
}
