import type { JSX } from 'preact';
import { WHOLE, client, listAll } from '../api.js';
import { useCan } from '../session.js';
import { DataTable, ErrorText, PageHeader, relative, useAction, useLoad, when } from '../ui.js';

export function Leases(): JSX.Element {
  const leases = useLoad(() => listAll(client.leases.iterate(WHOLE)));
  const canOperate = useCan('operator');
  const action = useAction();
  const end = (id: string, rotate: boolean): void => {
    void action.run(async () => {
      await client.leases.end(id, { rotate });
      leases.reload();
    });
  };
  return (
    <section>
      <PageHeader title="Leases" />
      <ErrorText error={leases.error ?? action.error} />
      <DataTable
        id="leases"
        columns={['Agent', 'Connection', 'Scopes', 'Since', 'Lease ends', 'Token expires', canOperate && 'Actions']}
        rows={leases.data}
        empty="No active leases."
        row={(l) => (
          <tr key={l.id}>
            <td>{l.agent ?? l.agentId}</td>
            <td>{l.connection ?? '—'}</td>
            <td>{l.scopes.join(' ')}</td>
            <td>{when(l.createdAt)}</td>
            <td>{relative(l.expiresAt)}</td>
            <td>{relative(l.tokenExpiresAt)}</td>
            {canOperate ? (
              <td class="row-actions">
                <button type="button" disabled={action.busy} onClick={() => end(l.id, false)}>
                  End
                </button>
                <button type="button" class="danger" disabled={action.busy} onClick={() => end(l.id, true)}>
                  End and rotate token
                </button>
              </td>
            ) : null}
          </tr>
        )}
      />
    </section>
  );
}
