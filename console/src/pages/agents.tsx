import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { AgentView, McpClientGrantView } from '../../../src/sdk/index.js';
import { WHOLE, client, listAll } from '../api.js';
import { policyProblems } from '../policy.js';
import { useCan } from '../session.js';
import { DataTable, Dialog, ErrorText, Field, PageHeader, SecretDialog, useAction, useLoad, when } from '../ui.js';

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
        ...(checked.policy === undefined ? {} : { policy: checked.policy as Record<string, unknown> }),
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

const REGISTRATION: Record<McpClientGrantView['registration'], string> = {
  metadata_document: 'metadata document',
  dynamic: 'dynamic registration',
};

/**
 * The remote MCP hosts an operator consented to act as this agent. Their grants
 * outlive the agent's keys, so this is where one is ended. The client's name is
 * the host's own words: rendered as text only.
 */
function McpHosts({ agent, canOperate }: { agent: AgentView; canOperate: boolean }): JSX.Element {
  const hosts = useLoad(() => client.agents.mcpClients(agent.name), [agent.name]);
  const revoke = useAction();
  // Any host may call itself anything ("Claude"): the client id goes with the name wherever one is picked.
  const label = (h: McpClientGrantView): string => `${h.clientName ?? 'unnamed host'} (${h.clientId})`;
  return (
    <>
      <h3 id="mcp-hosts-title">MCP hosts acting as this agent</h3>
      <ErrorText error={hosts.error ?? revoke.error} />
      {hosts.data?.length === 0 ? (
        <p id="mcp-hosts-empty">No MCP host acts as this agent.</p>
      ) : (
        <DataTable
          id="mcp-hosts"
          aria-labelledby="mcp-hosts-title"
          columns={['Client', 'Client id', 'Registered by', 'Consented', 'Expires', 'Last token', canOperate && 'Actions']}
          rows={hosts.data}
          row={(h) => (
            <tr key={h.id} data-grant={h.id}>
              <td>{h.clientName ?? <em>no name</em>}</td>
              <td>
                <code>{h.clientId}</code>
              </td>
              <td>{REGISTRATION[h.registration]}</td>
              <td>{when(h.consentedAt)}</td>
              <td>{when(h.expiresAt)}</td>
              <td>{when(h.lastTokenIssuedAt)}</td>
              {canOperate ? (
                <td class="row-actions">
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Revoke ${label(h)}`}
                    disabled={revoke.busy}
                    onClick={() => {
                      if (!confirm(`Revoke the access of ${label(h)} as ${agent.name}? Its tokens stop working at once; it must be consented again.`)) return;
                      void revoke.run(async () => {
                        await client.agents.revokeMcpClient(agent.name, h.id);
                        hosts.reload();
                      });
                    }}
                  >
                    Revoke
                  </button>
                </td>
              ) : null}
            </tr>
          )}
        />
      )}
      <p class="hint">A host’s grant is independent of the agent’s keys: removing or rotating a key does not end it{canOperate ? '; “Revoke” does' : ''}.</p>
    </>
  );
}

/** An agent's policy, keys and MCP hosts; read-only below the operator role. */
function AgentDialog({
  agent,
  canOperate,
  onClose,
  onKey,
}: {
  agent: AgentView;
  canOperate: boolean;
  onClose: (changed: boolean) => void;
  onKey: (key: { name: string; apiKey: string }) => void;
}): JSX.Element {
  const detail = useLoad(() => client.agents.get(agent.name), [agent.name]);
  const [policy, setPolicy] = useState(JSON.stringify(agent.policy, null, 2));
  const action = useAction();
  const checked = policyProblems(policy);
  return (
    <Dialog title={`Agent ${agent.name}`} wide onClose={() => onClose(false)}>
      {canOperate ? (
        <>
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
        </>
      ) : (
        <>
          <h3>Policy</h3>
          <pre class="policy">{policy}</pre>
        </>
      )}
      <h3>Keys</h3>
      <ErrorText error={detail.error} />
      <ul>
        {(detail.data?.keys ?? []).map((k) => (
          <li key={k.id}>
            <code>{k.id}</code> created {when(k.createdAt)}{' '}
            {canOperate ? (
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
            ) : null}
          </li>
        ))}
      </ul>
      {canOperate ? (
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
      ) : null}
      <ErrorText error={action.error} />
      <McpHosts agent={agent} canOperate={canOperate} />
    </Dialog>
  );
}

export function Agents(): JSX.Element {
  const agents = useLoad(() => listAll(client.agents.iterate(WHOLE)));
  const canOperate = useCan('operator');
  const [key, setKey] = useState<{ name: string; apiKey: string } | undefined>(undefined);
  const [editing, setEditing] = useState<AgentView | undefined>(undefined);
  const remove = useAction();
  return (
    <section>
      <PageHeader title="Agents" />
      <ErrorText error={agents.error ?? remove.error} />
      <DataTable
        id="agents"
        columns={['Name', 'Environment', 'Rules', 'Created', 'Actions']}
        rows={agents.data}
        empty="No agents yet."
        row={(a) => (
          <tr key={a.id} data-agent={a.name}>
            <td>{a.name}</td>
            <td>{a.environment}</td>
            <td>
              <code class="policy">{JSON.stringify((a.policy as { rules?: unknown } | null)?.rules ?? [])}</code>
            </td>
            <td>{when(a.createdAt)}</td>
            <td class="row-actions">
              {/* Viewers open it too, read-only: it is where the agent's keys and MCP hosts are listed. */}
              <button type="button" class="secondary" aria-label={`Details of ${a.name}`} onClick={() => setEditing(a)}>
                Details…
              </button>
              {canOperate ? (
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
              ) : null}
            </td>
          </tr>
        )}
      />
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
          canOperate={canOperate}
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
