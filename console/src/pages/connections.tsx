import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { ConnectionFilter, ConnectionView } from '../../../src/sdk/index.js';
import { WHOLE, client, listAll } from '../api.js';
import { navigate } from '../router.js';
import { useCan } from '../session.js';
import { DataTable, Dialog, ErrorText, Field, Link, PageHeader, SecretDialog, Status, relative, useAction, useLoad, when } from '../ui.js';

const STATUSES = ['pending', 'active', 'needs_reauth', 'revoked', 'error'];
const EXPIRING: Array<[string, string]> = [
  ['', 'Any time'],
  ['1h', 'within 1 hour'],
  ['24h', 'within 1 day'],
  ['168h', 'within 7 days'],
];

export function Connections(): JSX.Element {
  const [filter, setFilter] = useState<ConnectionFilter>({});
  const providers = useLoad(() => client.providers.list());
  const connections = useLoad(() => listAll(client.connections.iterate(filter, WHOLE)), [JSON.stringify(filter)]);
  const set = (key: keyof ConnectionFilter) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) => {
    const value = e.currentTarget.value;
    const next: ConnectionFilter = { ...filter };
    if (value === '') delete next[key];
    else next[key] = value;
    setFilter(next);
  };
  return (
    <section>
      <PageHeader title="Connections" />
      <form class="filters" role="search" aria-label="Filter connections" onSubmit={(e) => e.preventDefault()}>
        <Field id="f-provider" label="Provider">
          <select id="f-provider" value={filter.provider ?? ''} onChange={set('provider')}>
            <option value="">All</option>
            {(providers.data ?? []).map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field id="f-status" label="Status">
          <select id="f-status" value={filter.status ?? ''} onChange={set('status')}>
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <Field id="f-subject" label="Subject">
          <input id="f-subject" value={filter.subject ?? ''} onChange={set('subject')} />
        </Field>
        <Field id="f-env" label="Environment">
          <input id="f-env" value={filter.environment ?? ''} onChange={set('environment')} />
        </Field>
        <Field id="f-expiring" label="Token expiring">
          <select id="f-expiring" value={String(filter.expiringWithin ?? '')} onChange={set('expiringWithin')}>
            {EXPIRING.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </Field>
      </form>
      <ErrorText error={connections.error} />
      <DataTable
        id="connections"
        columns={['Name', 'Provider', 'Subject', 'Environment', 'Status', 'Token expires', 'Last error']}
        rows={connections.data}
        empty="No connections match."
        row={(c) => (
          <tr key={c.id} data-connection={c.name}>
            <td>
              <Link href={`/connections/${encodeURIComponent(c.name)}`}>{c.name}</Link>
            </td>
            <td>{c.provider}</td>
            <td>{c.subject ?? '—'}</td>
            <td>{c.environment}</td>
            <td>
              <Status value={c.status} />
            </td>
            <td>{relative(c.expiresAt)}</td>
            <td>{c.lastError ?? ''}</td>
          </tr>
        )}
      />
    </section>
  );
}

function ReconnectDialog({ connection, onClose }: { connection: ConnectionView; onClose: () => void }): JSX.Element {
  const [url, setUrl] = useState<string | undefined>(undefined);
  const action = useAction();
  if (url !== undefined) {
    return (
      <SecretDialog
        title="Reconnect link"
        label="Link for the account owner (single use)"
        value={url}
        note={`Whoever opens this link consents at ${connection.provider} again; the connection ${connection.name} keeps its name, agents and policies.`}
        onClose={onClose}
      />
    );
  }
  return (
    <Dialog title={`Reconnect ${connection.name}`} onClose={onClose}>
      <p>Make a single-use link that reconnects this connection in place. Send it to the owner of the account.</p>
      <button
        type="button"
        id="make-reconnect-link"
        disabled={action.busy}
        onClick={() =>
          void action.run(async () => {
            setUrl((await client.connectLinks.create({ connection: connection.name })).url);
          })
        }
      >
        Make reconnect link
      </button>
      <ErrorText error={action.error} />
    </Dialog>
  );
}

function RevokeDialog({ connection, onClose }: { connection: ConnectionView; onClose: () => void }): JSX.Element {
  const action = useAction();
  return (
    <Dialog title={`Revoke ${connection.name}`} onClose={onClose}>
      <p>The grant is revoked at the provider and the tokens are deleted. Agents lose access at once.</p>
      <button
        type="button"
        class="danger"
        id="confirm-revoke"
        disabled={action.busy}
        onClick={() =>
          void action.run(async () => {
            await client.connections.remove(connection.name);
            navigate('/console/connections');
          })
        }
      >
        Revoke
      </button>
      <ErrorText error={action.error} />
    </Dialog>
  );
}

export function ConnectionDetail({ name, reconnect }: { name: string; reconnect: boolean }): JSX.Element {
  const connection = useLoad(() => client.connections.get(name), [name]);
  const leases = useLoad(() => listAll(client.leases.iterate(WHOLE)), [name]);
  const providerName = connection.data?.provider;
  const provider = useLoad(async () => (providerName === undefined ? undefined : client.providers.get(providerName)), [providerName]);
  const canOperate = useCan('operator');
  const [dialog, setDialog] = useState<'reconnect' | 'revoke' | undefined>(reconnect ? 'reconnect' : undefined);
  const refresh = useAction();
  const c = connection.data;
  const mine = (leases.data ?? []).filter((l) => l.connection === name || (c !== undefined && l.connection === c.name));
  const requested = provider.data?.scopes ?? [];
  const granted = c?.scopes ?? [];
  return (
    <section>
      <PageHeader title={`Connection ${name}`}>
        <p>
          <Link href="/connections">All connections</Link>
        </p>
      </PageHeader>
      <ErrorText error={connection.error} />
      {c === undefined ? null : (
        <>
          <div class="cards">
            <section class="card" aria-labelledby="cd-token">
              <h2 id="cd-token">Connection</h2>
              <dl class="facts">
                <dt>Status</dt>
                <dd id="connection-status">
                  <Status value={c.status} />
                </dd>
                <dt>Provider</dt>
                <dd>{c.provider}</dd>
                <dt>Subject</dt>
                <dd>{c.subject ?? '—'}</dd>
                <dt>Environment</dt>
                <dd>{c.environment}</dd>
                <dt>Access token expires</dt>
                <dd>
                  {when(c.expiresAt)} ({relative(c.expiresAt)})
                </dd>
                <dt>Refresh grant expires</dt>
                <dd>{when(c.refreshTokenExpiresAt)}</dd>
                <dt>Last refreshed</dt>
                <dd>{when(c.lastRefreshedAt)}</dd>
                <dt>Last used</dt>
                <dd>{when(c.lastUsedAt)}</dd>
                <dt>Last error</dt>
                <dd id="last-error">{c.lastError ?? 'none'}</dd>
              </dl>
            </section>
            <section class="card" aria-labelledby="cd-leases">
              <h2 id="cd-leases">Active leases</h2>
              {mine.length === 0 ? (
                <p>No active lease.</p>
              ) : (
                <ul>
                  {mine.map((l) => (
                    <li key={l.id}>
                      {l.agent ?? l.agentId}: lease ends {relative(l.expiresAt)}, token {relative(l.tokenExpiresAt)}
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section class="card" aria-labelledby="cd-scopes">
              <h2 id="cd-scopes">Scopes</h2>
              <DataTable
                columns={['Scope', 'Requested', 'Granted']}
                rows={[...new Set([...requested, ...granted])]}
                row={(s) => (
                  <tr key={s}>
                    <td>{s}</td>
                    <td>{requested.includes(s) ? 'yes' : 'no'}</td>
                    <td>{granted.includes(s) ? 'yes' : 'no'}</td>
                  </tr>
                )}
              />
            </section>
          </div>
          {canOperate ? (
            <p class="actions">
              <button
                type="button"
                id="refresh"
                disabled={refresh.busy}
                onClick={() =>
                  void refresh.run(async () => {
                    try {
                      await client.connections.refresh(c.name);
                    } finally {
                      connection.reload();
                    }
                  })
                }
              >
                Refresh now
              </button>
              <button type="button" id="reconnect" onClick={() => setDialog('reconnect')}>
                Reconnect link…
              </button>
              <button type="button" class="danger" id="revoke" onClick={() => setDialog('revoke')}>
                Revoke…
              </button>
            </p>
          ) : null}
          <ErrorText error={refresh.error} />
          {dialog === 'reconnect' && canOperate ? <ReconnectDialog connection={c} onClose={() => setDialog(undefined)} /> : null}
          {dialog === 'revoke' ? <RevokeDialog connection={c} onClose={() => setDialog(undefined)} /> : null}
        </>
      )}
    </section>
  );
}
