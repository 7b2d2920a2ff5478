import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { WebhookView } from '../../../src/sdk/index.js';
import { WHOLE, client, listAll } from '../api.js';
import { useCan } from '../session.js';
import { DataTable, Dialog, ErrorText, Field, PageHeader, SecretDialog, Status, useAction, useLoad, when } from '../ui.js';

const EVENTS = [
  'connection.created',
  'connection.refreshed',
  'connection.refresh_failed',
  'connection.needs_reauth',
  'connection.revoked',
  'connection.expiring',
  'connection.revocation_failed',
  'provider.misconfigured',
  'proposal.created',
  'proposal.decided',
  '*',
];

function Deliveries({ webhook, canRetry, onClose }: { webhook: WebhookView; canRetry: boolean; onClose: () => void }): JSX.Element {
  const deliveries = useLoad(() => client.webhooks.deliveries(webhook.id), [webhook.id]);
  const retry = useAction();
  return (
    <Dialog title="Deliveries" onClose={onClose}>
      <p>{webhook.url}</p>
      <ErrorText error={deliveries.error ?? retry.error} />
      <DataTable
        columns={['Event', 'Status', 'Attempts', 'Last answer', 'Next attempt', canRetry && 'Actions']}
        rows={deliveries.data}
        row={(d) => (
          <tr key={d.id}>
            <td>{d.eventId}</td>
            <td>
              <Status value={d.status} />
            </td>
            <td>{d.attempts}</td>
            <td>{d.lastStatus ?? d.lastError ?? '—'}</td>
            <td>{when(d.nextAttemptAt)}</td>
            {canRetry ? (
              <td class="row-actions">
                {d.status === 'delivered' ? null : (
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`Retry now: delivery of event ${d.eventId}`}
                    disabled={retry.busy}
                    onClick={() =>
                      void retry.run(async () => {
                        await client.webhooks.retry(webhook.id, d.id);
                        deliveries.reload();
                      })
                    }
                  >
                    Retry now
                  </button>
                )}
              </td>
            ) : null}
          </tr>
        )}
      />
      <p class="hint">Pending deliveries are retried with backoff until the receiver acknowledges them{canRetry ? '; “Retry now” sends one at once' : ''}.</p>
    </Dialog>
  );
}

export function Webhooks(): JSX.Element {
  const hooks = useLoad(() => listAll(client.webhooks.iterate(WHOLE)));
  const isAdmin = useCan('admin');
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['connection.needs_reauth']);
  const [secret, setSecret] = useState<string | undefined>(undefined);
  const [showing, setShowing] = useState<WebhookView | undefined>(undefined);
  const action = useAction();
  return (
    <section>
      <PageHeader title="Webhooks" />
      <ErrorText error={hooks.error ?? action.error} />
      <DataTable
        id="webhooks"
        columns={['URL', 'Events', 'Created', 'Actions']}
        rows={hooks.data}
        empty="No webhooks."
        row={(h) => (
          <tr key={h.id}>
            <td>{h.url}</td>
            <td>{h.events.join(', ')}</td>
            <td>{when(h.createdAt)}</td>
            <td class="row-actions">
              <button type="button" class="secondary" onClick={() => setShowing(h)}>
                Deliveries
              </button>
              {isAdmin ? (
                <button
                  type="button"
                  class="danger"
                  disabled={action.busy}
                  onClick={() =>
                    void action.run(async () => {
                      await client.webhooks.remove(h.id);
                      hooks.reload();
                    })
                  }
                >
                  Remove
                </button>
              ) : null}
            </td>
          </tr>
        )}
      />
      {!isAdmin && (hooks.data?.length ?? 0) > 0 ? <p class="hint">Only admins see webhook URLs in full: for many receivers the URL is itself the credential.</p> : null}
      {isAdmin ? (
        <form
          class="panel"
          aria-labelledby="add-webhook-title"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              const created = await client.webhooks.create({ url, events });
              setUrl('');
              setSecret(created.secret);
              hooks.reload();
            });
          }}
        >
          <h2 id="add-webhook-title">Add a webhook</h2>
          <Field id="w-url" label="URL (https)">
            <input id="w-url" type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          </Field>
          <fieldset>
            <legend>Events</legend>
            {EVENTS.map((ev) => (
              <label key={ev} class="inline">
                <input
                  type="checkbox"
                  checked={events.includes(ev)}
                  onChange={(e) => setEvents(e.currentTarget.checked ? [...events, ev] : events.filter((x) => x !== ev))}
                />{' '}
                {ev}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={action.busy || events.length === 0}>
            Add webhook
          </button>
        </form>
      ) : null}
      {showing === undefined ? null : <Deliveries webhook={showing} canRetry={isAdmin} onClose={() => setShowing(undefined)} />}
      {secret === undefined ? null : (
        <SecretDialog
          title="Webhook signing secret"
          label="Signing secret"
          value={secret}
          note="Shown only now: the receiver verifies Latchkey-Signature with it."
          onClose={() => setSecret(undefined)}
        />
      )}
    </section>
  );
}
