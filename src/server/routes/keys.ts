import type { FastifyInstance } from 'fastify';
import type { Latchkey } from '../../latchkey.js';

export async function keyRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.get('/v1/keys', async () => {
    const keys = await core.store.keys.listKeys();
    return keys.map((k) => ({ id: k.id, status: k.status, createdAt: k.createdAt, sealsReserved: k.sealsReserved }));
  });

  app.post('/v1/keys/rotate', async (request) => {
    const result = await core.rotateKeys();
    request.log.info({ newKeyId: result.newKeyId, resealed: result.resealed }, 'keys rotated');
    return result;
  });
}
