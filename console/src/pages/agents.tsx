import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { AgentView } from '../../../src/sdk/index.js';
import { client } from '../api.js';
import { policyProblems } from '../policy.js';
import { useCan } from '../session.js';
import { Dialog, ErrorText, Field, PageHeader, SecretDialog, useAction, useLoad, when } from '../ui.js';

const EXAMPLE = JSON.stringify({ rules: [{ connections: ['github-*'], methods: ['GET'], paths: ['/user/**'] }], lease: { allowed: false } }, null, 2);

/** A JSON policy textarea that says what is wrong while typing. */
function PolicyEditor({ id, value, onChange }: { id: string; value: string; onChange: (text: string) => void }): JSX.Element {
  const { problems } = policyProblems(value);
  return (
    <Field id={id} label="Policy (JSON)">
      <textarea
        id={id}
        rows={10}
        spellcheck={false}
        value={value}
        onInput={(e) => onChange(e.currentTarget.value)}
        aria-invalid={problems.length > 0}
        aria-describedby={`${id}-problems`}
      />
      <div id={`${id}-problems`} aria-live="polite" class={problems.length > 0 ? 'error' : 'ok'}>
        {problems.length > 0 ? (
          <ul>
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        ) : (
          'The policy is well formed.'
        )}
      </div>
    </Field>
  );
}

function CreateAgent({ onCreated }: { onCreated: (key: { name: string; apiKey: string }) => void }): JSX.Element {
  const [name, setName] = useState('');
  const [environment, setEnvironment] = useState('');
  const [policy, setPolicy] = useState(EXAMPLE);
  const action = useAction();
  const checked = policyProblems(policy);
  const submit = (event: Event): void => {
    event.preventDefault();
    if (checked.problems.length > 0) return;
    void action.run(async () => {
      const created = await client.agents.create({
        name,
        ...(environment === '' ? {} : { environment }),
        ...(checked.policy === undefined ? {} : { policy: checked.policy }),
      });
      setName('');
      onCreated({ name: created.name, apiKey: created.apiKey });
    });
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="create-agent-title">
      <h2 id="create-agent-title">Create an agent</h2>
      <Field id="a-name" label="Name">
        <input id="a-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <Field id="a-env" label="Environment (optional)">
        <input id="a-env" value={environment} onInput={(e) => setEnvironment(e.currentTarget.value)} />
      </Field>
      <PolicyEditor id="a-policy" value={policy} onChange={setPolicy} />
      <button type="submit" disabled={action.busy || checked.problems.length > 0}>
        Create agent
      </button>
      <ErrorText error={action.error} />
    </form>
  );
}

function AgentDialog({ agent, onClose, onKey }: { agent: AgentView; onClose: (changed: boolean) => void; onKey: (key: { name: string; apiKey: string }) => void }): JSX.Element {
  const detail = useLoad(() => client.agents.get(agent.name), [agent.name]);
  const [policy, setPolicy] = useState(JSON.stringify(agent.policy, null, 2));
  const action = useAction();
  const checked = policyProblems(policy);
  return (
    <Dialog title={`Agent ${agent.name}`} onClose={() => onClose(false)}>
      <PolicyEditor id="edit-policy" value={policy} onChange={setPolicy} />
      <p>
        <button
          type="button"
          disabled={action.busy || checked.problems.length > 0}
          onClick={() =>
            void action.run(async () => {
              await client.agents.update(agent.name, { policy: checked.policy ?? {} });
              onClose(true);
            })
          }
        >
          Save policy
        </button>
      </p>
      <h3>Keys</h3>
      <ul>
        {(detail.data?.keys ?? []).map((k) => (
          <li key={k.id}>
            <code>{k.id}</code> created {when(k.createdAt)}{' '}
            <button
              type="button"
              class="danger"
              aria-label={`Remove key ${k.id}`}
              disabled={action.busy}
              onClick={() =>
                void action.run(async () => {
                  await client.agents.removeKey(agent.name, k.id);
                  detail.reload();
                })
              }
            >
              Remove key
            </button>
          </li>
        ))}
      </ul>
      <p>
        <button
          type="button"
          disabled={action.busy}
          onClick={() =>
            void action.run(async () => {
              const key = await client.agents.addKey(agent.name);
              detail.reload();
              onKey({ name: agent.name, apiKey: key.apiKey });
            })
          }
        >
          Add a new key (rotate)
        </button>
      </p>
      <ErrorText error={action.error} />
    </Dialog>
  );
}

export function Agents(): JSX.Element {
  const agents = useLoad(() => client.agents.list());
  const canOperate = useCan('operator');
  const [key, setKey] = useState<{ name: string; apiKey: string } | undefined>(undefined);
  const [editing, setEditing] = useState<AgentView | undefined>(undefined);
  const remove = useAction();
  return (
    <section>
      <PageHeader title="Agents" />
      <ErrorText error={agents.error ?? remove.error} />
      <table id="agents">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Environment</th>
            <th scope="col">Rules</th>
            <th scope="col">Created</th>
            {canOperate ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {(agents.data ?? []).map((a) => (
            <tr key={a.id} data-agent={a.name}>
              <td>{a.name}</td>
              <td>{a.environment}</td>
              <td>
                <code class="policy">{JSON.stringify((a.policy as { rules?: unknown } | null)?.rules ?? [])}</code>
              </td>
              <td>{when(a.createdAt)}</td>
              {canOperate ? (
                <td class="row-actions">
                  <button type="button" class="secondary" onClick={() => setEditing(a)}>
                    Policy and keys…
                  </button>
                  <button
                    type="button"
                    class="danger"
                    disabled={remove.busy}
                    onClick={() => {
                      if (!confirm(`Remove the agent ${a.name}? Its keys stop working at once.`)) return;
                      void remove.run(async () => {
                        await client.agents.remove(a.name);
                        agents.reload();
                      });
                    }}
                  >
                    Remove
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      {agents.data?.length === 0 ? <p>No agents yet.</p> : null}
      {canOperate ? (
        <CreateAgent
          onCreated={(created) => {
            setKey(created);
            agents.reload();
          }}
        />
      ) : null}
      {editing === undefined ? null : (
        <AgentDialog
          agent={editing}
          onKey={(k) => {
            setEditing(undefined);
            setKey(k);
          }}
          onClose={(changed) => {
            setEditing(undefined);
            if (changed) agents.reload();
          }}
        />
      )}
      {key === undefined ? null : (
        <SecretDialog
          title={`API key for ${key.name}`}
          label="Agent API key"
          value={key.apiKey}
          note="This key is shown only now. Copy it into the agent's configuration; Latchkey keeps only its hash."
          onClose={() => setKey(undefined)}
        />
      )}
    </section>
  );
}
