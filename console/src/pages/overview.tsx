import type { JSX } from 'preact';
import type { AuditEventView, ConnectionView } from '../../../src/sdk/index.js';
import { WHOLE, client, listAll } from '../api.js';
import { DataTable, ErrorText, Link, PageHeader, Status, actorLabel, relative, useLoad, when } from '../ui.js';

const DAY_MS = 24 * 3600 * 1000;

function byStatus(connections: ConnectionView[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const c of connections) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0].localeCompare(b[0]));
}

function ConnectionList({ items, empty, id }: { items: ConnectionView[]; empty: string; id: string }): JSX.Element {
  if (items.length === 0) return <p>{empty}</p>;
  return (
    <ul id={id}>
      {items.map((c) => (
        <li key={c.id}>
          <Link href={`/connections/${encodeURIComponent(c.name)}`}>{c.name}</Link> <Status value={c.status} /> ({c.provider}
          {c.expiresAt === null ? '' : `, expires ${relative(c.expiresAt)}`})
        </li>
      ))}
    </ul>
  );
}

/** What needs a person: connections by status, the dying ones, and recent refusals and failures. */
export function Overview(): JSX.Element {
  const connections = useLoad(() => listAll(client.connections.iterate({}, WHOLE)));
  const audit = useLoad(() => client.audit.list({ limit: 200 }));
  const all = connections.data ?? [];
  const now = Date.now();
  const reauth = all.filter((c) => c.status === 'needs_reauth' || c.status === 'error');
  // Access tokens are renewed on their own; what runs out for good is the refresh grant.
  const expiring = all.filter(
    (c) => c.status === 'active' && c.refreshTokenExpiresAt !== null && new Date(c.refreshTokenExpiresAt).getTime() - now < 7 * DAY_MS,
  );
  const problems: AuditEventView[] = (audit.data ?? []).filter((e) => e.outcome === 'denied' || e.outcome === 'failure').slice(0, 20);
  return (
    <section>
      <PageHeader title="Overview" />
      <ErrorText error={connections.error} />
      <div class="cards">
        <section class="card" aria-labelledby="ov-status">
          <h2 id="ov-status">Connections by status</h2>
          {all.length === 0 ? (
            <p>No connections yet.</p>
          ) : (
            <dl class="counts" id="status-counts">
              {byStatus(all).map(([status, count]) => (
                <div key={status}>
                  <dt>
                    <Status value={status} />
                  </dt>
                  <dd data-status={status}>{count}</dd>
                </div>
              ))}
            </dl>
          )}
        </section>
        <section class="card" aria-labelledby="ov-reauth">
          <h2 id="ov-reauth">Needs a person</h2>
          <ConnectionList id="needs-reauth" items={reauth} empty="Every connection works." />
        </section>
        <section class="card" aria-labelledby="ov-expiring">
          <h2 id="ov-expiring">Expiring within 7 days</h2>
          <ConnectionList id="expiring" items={expiring} empty="None." />
        </section>
      </div>
      <section aria-labelledby="ov-problems">
        <h2 id="ov-problems">Recent denials and failures</h2>
        <ErrorText error={audit.error} />
        {problems.length === 0 ? (
          <p>None in the last 200 events.</p>
        ) : (
          <DataTable
            id="problems"
            columns={['When', 'Who', 'Action', 'Connection', 'Outcome']}
            rows={problems}
            row={(e) => (
              <tr key={e.id}>
                <td>{when(e.at)}</td>
                <td>{actorLabel(e.actor)}</td>
                <td>{e.action}</td>
                <td>{e.connection ?? '—'}</td>
                <td>
                  <Status value={e.outcome} /> {e.status ?? ''}
                </td>
              </tr>
            )}
          />
        )}
      </section>
    </section>
  );
}
