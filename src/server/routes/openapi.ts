import type { FastifyInstance } from 'fastify';

const openApiDocument = {
  type: 'object',
  required: ['openapi', 'info', 'paths', 'components'],
  properties: { openapi: { type: 'string', const: '3.1.0' }, info: { type: 'object' }, paths: { type: 'object' }, components: { type: 'object' } },
} as const;

/** GET /openapi.json: the contract, built once from the registered routes (they are all in place by the first request). */
export async function openApiRoute(app: FastifyInstance, document: () => Record<string, unknown>): Promise<void> {
  let built: string | undefined;
  app.get('/openapi.json', { schema: { response: { 200: openApiDocument } } }, async (_request, reply) => {
    built ??= JSON.stringify(document());
    return reply.type('application/json; charset=utf-8').send(built);
  });
}
