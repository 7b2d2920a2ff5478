import type { Db } from './dialect.js';
import { keysetPage, type Keyset } from './keyset.js';
import { fromJson, toJson } from './json.js';
import type { WebhooksTable } from './schema.js';

/** A webhook subscription; `secret` stays sealed. */
export interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  secret: string;
  createdAt: string;
  updatedAt: string;
}

function decode(r: WebhooksTable): WebhookRow {
  return { ...r, events: fromJson<string[]>(r.events, []) };
}

export function webhookStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: WebhookRow): Promise<void> {
      await k.insertInto('webhooks').values({ ...row, events: toJson(row.events) }).execute();
    },
    async findById(id: string): Promise<WebhookRow | undefined> {
      const r = await k.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
      return r === undefined ? undefined : decode(r);
    },
    /** Oldest first (ties by id); with `page`, one keyset page. */
    async list(page?: Keyset): Promise<WebhookRow[]> {
      const rows = await keysetPage(k.selectFrom('webhooks').selectAll(), ['createdAt', 'id'], page).execute();
      return rows.map(decode);
    },
    /** Removes the webhook and its undelivered deliveries together. */
    async remove(id: string): Promise<boolean> {
      return k.transaction().execute(async (tx) => {
        await tx.deleteFrom('webhookDeliveries').where('webhookId', '=', id).execute();
        const result = await tx.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) === 1;
      });
    },
  };
}

export type WebhookStore = ReturnType<typeof webhookStore>;
