import type { Db } from './dialect.js';
import { keysetPage, type Keyset } from './keyset.js';
import type { EventOutboxTable, WebhookDeliveriesTable } from './schema.js';

/** One event in the outbox; `payload` is the JSON body exactly as delivered. */
export type EventRow = EventOutboxTable;

export type DeliveryRow = Omit<WebhookDeliveriesTable, 'status'> & { status: 'pending' | 'delivered' };

/** A due delivery with what sending it needs. */
export interface DueDelivery extends DeliveryRow {
  payload: string;
  type: string;
}

/** Owner of event_outbox and webhook_deliveries: the durable half of webhooks. */
export function eventStore(db: Db) {
  const k = db.kysely;
  return {
    /** The event and one delivery per subscribed webhook, in one transaction: stored before anything is sent. */
    async append(event: EventRow, webhookIds: string[]): Promise<void> {
      await k.transaction().execute(async (tx) => {
        await tx.insertInto('eventOutbox').values(event).execute();
        for (const webhookId of webhookIds) {
          await tx
            .insertInto('webhookDeliveries')
            .values({
              id: `${event.id}.${webhookId}`,
              webhookId,
              eventId: event.id,
              status: 'pending',
              attempts: 0,
              nextAttemptAt: event.createdAt,
              claimOwner: null,
              claimUntil: null,
              lastStatus: null,
              lastError: null,
              createdAt: event.createdAt,
              deliveredAt: null,
            })
            .execute();
        }
      });
    },
    /**
     * Forgets what is done: deliveries acknowledged before `before`, then events
     * older than that with no delivery left. Pending deliveries keep their event.
     */
    async pruneDelivered(before: string): Promise<{ deliveries: number; events: number }> {
      const deliveries = await k
        .deleteFrom('webhookDeliveries')
        .where('status', '=', 'delivered')
        .where('deliveredAt', '<', before)
        .executeTakeFirst();
      const events = await k
        .deleteFrom('eventOutbox')
        .where('createdAt', '<', before)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('webhookDeliveries').select('id').whereRef('webhookDeliveries.eventId', '=', 'eventOutbox.id'))),
        )
        .executeTakeFirst();
      return { deliveries: Number(deliveries.numDeletedRows), events: Number(events.numDeletedRows) };
    },
    async listEvents(filter: { type?: string; connectionId?: string; limit?: number } = {}): Promise<EventRow[]> {
      let q = k.selectFrom('eventOutbox').selectAll();
      if (filter.type !== undefined) q = q.where('type', '=', filter.type);
      if (filter.connectionId !== undefined) q = q.where('connectionId', '=', filter.connectionId);
      return q
        .orderBy('createdAt')
        .orderBy('id')
        .limit(filter.limit ?? 1000)
        .execute();
    },
    /** Pending deliveries whose time has come and that nobody is sending right now. */
    async dueDeliveries(now: string, limit: number): Promise<DueDelivery[]> {
      const rows = await k
        .selectFrom('webhookDeliveries as d')
        .innerJoin('eventOutbox as e', 'e.id', 'd.eventId')
        .selectAll('d')
        .select(['e.payload', 'e.type'])
        .where('d.status', '=', 'pending')
        .where('d.nextAttemptAt', '<=', now)
        .where((eb) => eb.or([eb('d.claimUntil', 'is', null), eb('d.claimUntil', '<=', now)]))
        .orderBy('d.nextAttemptAt')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ ...r, status: r.status as DeliveryRow['status'], attempts: Number(r.attempts) }));
    },
    /** Same conditional-update claim as refreshes: one replica sends a delivery at a time. */
    async claimDelivery(id: string, owner: string, now: string, until: string): Promise<boolean> {
      const result = await k
        .updateTable('webhookDeliveries')
        .set({ claimOwner: owner, claimUntil: until })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('claimUntil', 'is', null), eb('claimUntil', '<=', now)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async markDelivered(id: string, owner: string, result: { at: string; status: number; attempts: number }): Promise<void> {
      await k
        .updateTable('webhookDeliveries')
        .set({
          status: 'delivered',
          deliveredAt: result.at,
          lastStatus: result.status,
          lastError: null,
          attempts: result.attempts,
          claimOwner: null,
          claimUntil: null,
        })
        .where('id', '=', id)
        .where('claimOwner', '=', owner)
        .execute();
    },
    async scheduleRetry(
      id: string,
      owner: string,
      retry: { attempts: number; nextAttemptAt: string; lastStatus: number | null; lastError: string },
    ): Promise<void> {
      await k
        .updateTable('webhookDeliveries')
        .set({ ...retry, claimOwner: null, claimUntil: null })
        .where('id', '=', id)
        .where('claimOwner', '=', owner)
        .execute();
    },
    async findDelivery(id: string): Promise<DeliveryRow | undefined> {
      const r = await k.selectFrom('webhookDeliveries').selectAll().where('id', '=', id).executeTakeFirst();
      return r === undefined ? undefined : { ...r, status: r.status as DeliveryRow['status'], attempts: Number(r.attempts) };
    },
    /**
     * Makes a pending delivery due at `now` (attempts kept). Conditional on
     * `pending`, so a delivery acknowledged meanwhile stays delivered; a
     * claim in flight is left alone (its sender reschedules or delivers it).
     */
    async retryNow(id: string, now: string): Promise<boolean> {
      const result = await k
        .updateTable('webhookDeliveries')
        .set({ nextAttemptAt: now })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** Newest first (ties by id, descending); one keyset page. */
    async listDeliveries(webhookId: string, page: Keyset = { limit: 100 }): Promise<DeliveryRow[]> {
      const rows = await keysetPage(k.selectFrom('webhookDeliveries').selectAll().where('webhookId', '=', webhookId), ['createdAt', 'id'], page, 'desc').execute();
      return rows.map((r) => ({ ...r, status: r.status as DeliveryRow['status'], attempts: Number(r.attempts) }));
    },
  };
}

export type EventStore = ReturnType<typeof eventStore>;
