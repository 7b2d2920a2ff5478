import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Keyring } from '../crypto/index.js';
import { InvalidRequest, NotFound } from '../errors.js';
import { newId } from '../ids.js';
import { checkEndpointUrl } from '../providers/index.js';
import type { Keyset, Store, WebhookRow } from '../store/index.js';
import { EVENT_TYPES } from './types.js';

export interface WebhookInput {
  url: string;
  events: string[];
  secret?: string;
}

/** The API view: never the secret. */
export interface PublicWebhook {
  id: string;
  url: string;
  events: string[];
  createdAt: string;
}

export function secretContext(webhookId: string) {
  return { table: 'webhooks', rowId: webhookId, column: 'secret' };
}

export function toPublicWebhook(row: WebhookRow): PublicWebhook {
  return { id: row.id, url: row.url, events: row.events, createdAt: row.createdAt };
}

/**
 * A webhook URL for someone who may see where events go but not send to it:
 * many receivers take the URL itself as the credential (Slack and Discord
 * incoming webhooks, `?token=` URLs), so only the origin is kept, and `…`
 * says that a path or query was cut.
 */
export function maskWebhookUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '…';
  }
  const cut = parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== '';
  return `${parsed.origin}/${cut ? '…' : ''}`;
}

export function webhookRegistry(deps: { store: Store; keyring: Keyring; clock: Clock; allowHttpLoopback: boolean }) {
  const { store, keyring, clock } = deps;

  /** Registers a webhook; the secret (given or generated) is sealed and returned only here. */
  async function register(input: WebhookInput): Promise<PublicWebhook & { secret: string }> {
    const url = checkEndpointUrl('url', input.url, deps.allowHttpLoopback).toString();
    const events = [...new Set(input.events)];
    if (events.length === 0) throw new InvalidRequest('events must name at least one event type');
    for (const e of events) {
      if (e !== '*' && !(EVENT_TYPES as readonly string[]).includes(e)) {
        throw new InvalidRequest(`unknown event type "${e}" (one of ${EVENT_TYPES.join(', ')}, or "*")`);
      }
    }
    if (input.secret !== undefined && input.secret.length < 16) throw new InvalidRequest('secret must be at least 16 characters');
    const secret = input.secret ?? `whsec_${randomBytes(24).toString('base64url')}`;
    const id = newId('whk');
    const now = clock.now().toISOString();
    const row: WebhookRow = {
      id,
      url,
      events,
      secret: await keyring.seal(secret, secretContext(id)),
      createdAt: now,
      updatedAt: now,
    };
    await store.webhooks.insert(row);
    return { ...toPublicWebhook(row), secret };
  }

  async function get(id: string): Promise<WebhookRow> {
    const row = await store.webhooks.findById(id);
    if (row === undefined) throw new NotFound(`webhook "${id}" does not exist`);
    return row;
  }

  async function list(page?: Keyset): Promise<PublicWebhook[]> {
    return (await store.webhooks.list(page)).map(toPublicWebhook);
  }

  async function remove(id: string): Promise<void> {
    if (!(await store.webhooks.remove(id))) throw new NotFound(`webhook "${id}" does not exist`);
  }

  async function secretOf(row: WebhookRow): Promise<string> {
    return keyring.openString(row.secret, secretContext(row.id));
  }

  return { register, get, list, remove, secretOf };
}

export type WebhookRegistry = ReturnType<typeof webhookRegistry>;
