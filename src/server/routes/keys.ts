import type { FastifyInstance } from 'fastify';
import { keyRotation, keyView } from '../../api/index.js';
import type { Latchkey } from '../../latchkey.js';

export async function keyRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.get('/v1/keys', { schema: { response: { 200: { type: 'array', items: keyView } } } }, async () => {
    const keys = await core.store.keys.listKeys();
    return keys.map((k) => ({ id: k.id, status: k.status, createdAt: k.createdAt, sealsReserved: k.sealsReserved }));
  });

  app.post('/v1/keys/rotate', { schema: { response: { 200: keyRotation } } }, async (request) => {
    const result = await core.rotateKeys();
    request.log.info({ newKeyId: result.newKeyId, resealed: result.resealed }, 'keys rotated');
    return result;
  });
}
