import type { FastifyInstance } from 'fastify';
import { deletedResponse, deliveryParams, idParams, pagedQuery, webhookCreateBody, pageOf, webhookCreated, webhookDeliveryView, webhookView } from '../../api/index.js';
import { EVENT_TYPES, maskWebhookUrl, type WebhookInput } from '../../events/index.js';
import { Conflict, NotFound } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { roleAtLeast } from '../../operators/index.js';
import type { DeliveryRow } from '../../store/index.js';
import { noStore } from '../no-store.js';
import { listPage, type PageQuery } from '../paging.js';
import { principalOf, roleOfPrincipal } from '../principal.js';

const webhookBody = webhookCreateBody(EVENT_TYPES);

/** The API view of a delivery (the deliveries list and the retry answer). */
function deliveryView(d: DeliveryRow) {
  return {
    id: d.id,
    eventId: d.eventId,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: d.createdAt,
    deliveredAt: d.deliveredAt,
  };
}

export async function webhookRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.post<{ Body: WebhookInput }>('/v1/webhooks', { schema: { body: webhookBody, response: { 201: webhookCreated } } }, async (request, reply) => {
    const created = await core.events.webhooks.register(request.body);
    request.log.info({ webhook: created.id, events: created.events }, 'webhook registered');
    await core.audit.admin('webhook.create', { detail: { webhook: created.id } });
    // The secret is shown here only (when Latchkey generated it, it exists nowhere else).
    return noStore(reply).code(201).send(created);
  });

  app.get<{ Querystring: PageQuery }>('/v1/webhooks', { schema: { querystring: pagedQuery({}), response: { 200: pageOf(webhookView) } } }, async (request, reply) => {
    // Viewers and operators may see where events go, not the URL: for many receivers it is the credential.
    const fullUrls = roleAtLeast(roleOfPrincipal(principalOf(request)), 'admin');
    return listPage(
      request,
      reply,
      { list: 'webhooks', keyLength: 2 },
      (page) => core.events.webhooks.list(page),
      (w) => [w.createdAt, w.id],
      (rows) => (fullUrls ? rows : rows.map((w) => ({ ...w, url: maskWebhookUrl(w.url) }))),
    );
  });

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/v1/webhooks/:id/deliveries',
    { schema: { params: idParams, querystring: pagedQuery({}), response: { 200: pageOf(webhookDeliveryView) } } },
    async (request, reply) => {
      const webhook = await core.events.webhooks.get(request.params.id);
      return listPage(
        request,
        reply,
        // The webhook's id in the list name: a cursor of one webhook's deliveries is refused for another's.
        { list: `deliveries:${webhook.id}`, keyLength: 2 },
        (page) => core.store.events.listDeliveries(webhook.id, page),
        (d) => [d.createdAt, d.id],
        (deliveries) => deliveries.map(deliveryView),
      );
    },
  );

  app.post<{ Params: { id: string; deliveryId: string } }>(
    '/v1/webhooks/:id/deliveries/:deliveryId/retry',
    { schema: { params: deliveryParams, response: { 200: webhookDeliveryView } } },
    async (request) => {
      const webhook = await core.events.webhooks.get(request.params.id);
      const { deliveryId } = request.params;
      const missing = (): NotFound => new NotFound(`webhook "${webhook.id}" has no delivery "${deliveryId}"`);
      const found = await core.store.events.findDelivery(deliveryId);
      // Another webhook's delivery is as unknown here as one that does not exist.
      if (found === undefined || found.webhookId !== webhook.id) throw missing();
      if (found.status === 'delivered') throw new Conflict(`delivery "${deliveryId}" was delivered already; there is nothing to retry`);
      if (!(await core.store.events.retryNow(deliveryId, core.clock.now().toISOString()))) {
        // Acknowledged (or pruned with its webhook) between the read and the update.
        const now = await core.store.events.findDelivery(deliveryId);
        if (now === undefined) throw missing();
        throw new Conflict(`delivery "${deliveryId}" was delivered already; there is nothing to retry`);
      }
      const updated = (await core.store.events.findDelivery(deliveryId)) ?? found;
      await core.audit.admin('webhook.delivery_retry', { detail: { webhook: webhook.id, delivery: deliveryId, attempts: updated.attempts } });
      core.events.delivery.nudge();
      return deliveryView(updated);
    },
  );

  app.delete<{ Params: { id: string } }>('/v1/webhooks/:id', { schema: { params: idParams, response: { 200: deletedResponse } } }, async (request) => {
    await core.events.webhooks.remove(request.params.id);
    await core.audit.admin('webhook.delete', { detail: { webhook: request.params.id } });
    return { deleted: true };
  });
}
