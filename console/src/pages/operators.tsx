import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { OperatorRole, OperatorView } from '../../../src/sdk/index.js';
import { client } from '../api.js';
import { useCan, useSession } from '../session.js';
import { DataTable, ErrorText, Field, PageHeader, SecretDialog, useAction, useLoad, when } from '../ui.js';

const ROLES: OperatorRole[] = ['viewer', 'operator', 'admin'];

export function Operators(): JSX.Element {
  const isAdmin = useCan('admin');
  const me = useSession().session.operator;
  const operators = useLoad(async (): Promise<OperatorView[]> => (isAdmin ? client.operators.list() : []));
  const [name, setName] = useState('');
  const [role, setRole] = useState<OperatorRole>('viewer');
  const [password, setPassword] = useState('');
  const [link, setLink] = useState<{ name: string; url: string } | undefined>(undefined);
  const action = useAction();
  if (!isAdmin) {
    return (
      <section>
        <PageHeader title="Operators" />
        <p>Only admins manage operators.</p>
      </section>
    );
  }
  return (
    <section>
      <PageHeader title="Operators" />
      <ErrorText error={operators.error ?? action.error} />
      <DataTable
        id="operators"
        columns={['Name', 'Role', 'Created', 'Actions']}
        rows={operators.data}
        row={(o) => (
          <tr key={o.id}>
            <td>{o.name}</td>
            <td>
              <label class="visually-hidden" for={`role-${o.id}`}>
                Role of {o.name}
              </label>
              <select
                id={`role-${o.id}`}
                value={o.role}
                disabled={action.busy}
                onChange={(e) => {
                  const next = e.currentTarget.value as OperatorRole;
                  void action.run(async () => {
                    await client.operators.update(o.name, { role: next });
                    operators.reload();
                  });
                }}
              >
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </td>
            <td>{when(o.createdAt ?? null)}</td>
            <td class="row-actions">
              <button
                type="button"
                disabled={action.busy}
                onClick={() =>
                  void action.run(async () => {
                    const made = await client.operators.signInLink(o.name);
                    setLink({ name: o.name, url: made.url });
                  })
                }
              >
                Sign-in link
              </button>
              {o.name === me.name ? null : (
                <button
                  type="button"
                  class="danger"
                  disabled={action.busy}
                  onClick={() => {
                    if (!confirm(`Remove the operator ${o.name}?`)) return;
                    void action.run(async () => {
                      await client.operators.remove(o.name);
                      operators.reload();
                    });
                  }}
                >
                  Remove
                </button>
              )}
            </td>
          </tr>
        )}
      />
      <form
        class="panel"
        aria-labelledby="add-operator-title"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            await client.operators.create({ name, role, ...(password === '' ? {} : { password }) });
            setName('');
            setPassword('');
            operators.reload();
          });
        }}
      >
        <h2 id="add-operator-title">Add an operator</h2>
        <Field id="o-name" label="Name">
          <input id="o-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field id="o-role" label="Role">
          <select id="o-role" value={role} onChange={(e) => setRole(e.currentTarget.value as OperatorRole)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </Field>
        <Field id="o-password" label="Password (optional: or send a sign-in link)">
          <input id="o-password" type="password" autocomplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </Field>
        <button type="submit" disabled={action.busy}>
          Add operator
        </button>
      </form>
      {link === undefined ? null : (
        <SecretDialog
          title={`Sign-in link for ${link.name}`}
          label="One-time sign-in link"
          value={link.url}
          note="It signs in once and expires. Send it over a channel you trust."
          onClose={() => setLink(undefined)}
        />
      )}
    </section>
  );
}
