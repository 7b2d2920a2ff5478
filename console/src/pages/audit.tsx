import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { AuditFilter, AuditVerifyView } from '../../../src/sdk/index.js';
import { client } from '../api.js';
import { DataTable, ErrorText, Field, PageHeader, Status, actorLabel, useAction, useLoad, when } from '../ui.js';

const FOLLOW_MS = 3000;

export function Audit(): JSX.Element {
  const [draft, setDraft] = useState<AuditFilter>({});
  const [filter, setFilter] = useState<AuditFilter & { limit?: number }>({ limit: 100 });
  const [follow, setFollow] = useState(false);
  const events = useLoad(() => client.audit.list(filter), [JSON.stringify(filter)]);
  const [verified, setVerified] = useState<AuditVerifyView | undefined>(undefined);
  const verify = useAction();

  // Live follow: poll the newest events while the box is ticked.
  useEffect(() => {
    if (!follow) return;
    const timer = setInterval(events.reload, FOLLOW_MS);
    return () => clearInterval(timer);
  }, [follow]);

  const set = (key: 'agent' | 'connection' | 'action' | 'since') => (e: { currentTarget: HTMLInputElement }) => {
    const value = e.currentTarget.value.trim();
    setDraft({ ...draft, [key]: value === '' ? undefined : value });
  };
  return (
    <section>
      <PageHeader title="Audit log" />
      <form
        class="filters"
        role="search"
        aria-label="Filter audit events"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter({ ...draft, limit: 100 });
        }}
      >
        <Field id="au-agent" label="Agent">
          <input id="au-agent" onInput={set('agent')} />
        </Field>
        <Field id="au-connection" label="Connection">
          <input id="au-connection" onInput={set('connection')} />
        </Field>
        <Field id="au-action" label="Action">
          <input id="au-action" onInput={set('action')} placeholder="e.g. proxy.request" />
        </Field>
        <Field id="au-since" label="Since (ISO time)">
          <input id="au-since" onInput={set('since')} />
        </Field>
        <button type="submit">Apply filters</button>
        <label class="inline">
          <input type="checkbox" id="au-follow" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow live
        </label>
      </form>
      <p class="actions">
        <button
          type="button"
          id="verify"
          disabled={verify.busy}
          onClick={() =>
            void verify.run(async () => {
              setVerified(undefined);
              setVerified(await client.audit.verify());
            })
          }
        >
          Verify the chain
        </button>
      </p>
      <div role="status" id="verify-result">
        {verified === undefined ? null : verified.ok ? (
          <p class="ok">The audit chain is intact: {String(verified.events ?? '')} events verified.</p>
        ) : (
          <p class="error">
            The audit chain is broken: <code>{JSON.stringify(verified)}</code>
          </p>
        )}
      </div>
      <ErrorText error={verify.error ?? events.error} />
      <DataTable
        id="audit"
        columns={['When', 'Actor', 'Action', 'Connection', 'Outcome', 'Detail']}
        rows={events.data}
        row={(e) => (
          <tr key={e.id}>
            <td>{when(e.at)}</td>
            <td>{actorLabel(e.actor)}</td>
            <td>{e.action}</td>
            <td>{e.connection ?? '—'}</td>
            <td>
              <Status value={e.outcome} /> {e.status ?? ''}
            </td>
            <td>
              <code class="detail">{JSON.stringify(e.detail)}</code>
            </td>
          </tr>
        )}
      />
    </section>
  );
}
