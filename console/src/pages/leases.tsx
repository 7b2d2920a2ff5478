import type { JSX } from 'preact';
import { client } from '../api.js';
import { useCan } from '../session.js';
import { ErrorText, PageHeader, relative, useAction, useLoad, when } from '../ui.js';

export function Leases(): JSX.Element {
  const leases = useLoad(() => client.leases.list());
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
      <table id="leases">
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Connection</th>
            <th scope="col">Scopes</th>
            <th scope="col">Since</th>
            <th scope="col">Lease ends</th>
            <th scope="col">Token expires</th>
            {canOperate ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {(leases.data ?? []).map((l) => (
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
          ))}
        </tbody>
      </table>
      {leases.data?.length === 0 ? <p>No active leases.</p> : null}
    </section>
  );
}
