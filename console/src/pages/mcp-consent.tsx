import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { McpConsentView } from '../../../src/sdk/index.js';
import { WHOLE, client, listAll } from '../api.js';
import { ErrorText, Field, PageHeader, useAction, useLoad, when } from '../ui.js';

/** Only back into Latchkey's own authorization server: the answer decides where the browser goes. */
function safeRedirect(target: string): string | undefined {
  try {
    const url = new URL(target, location.origin);
    return url.origin === location.origin && url.pathname.startsWith('/mcp-oauth/') ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function Source({ view }: { view: McpConsentView }): JSX.Element {
  if (view.client.registration === 'metadata_document') {
    return (
      <span>
        its metadata document at <code data-testid="metadata-url">{view.client.metadataUrl}</code> (fetched by Latchkey)
      </span>
    );
  }
  return <span>it registered itself (dynamic client registration); nobody vouches for its name</span>;
}

/**
 * `/console/mcp/consent/{uid}`: a remote MCP host (Claude, VS Code, Cursor…)
 * asks to use Latchkey. The operator sees who asks and where it sends the
 * browser back, and picks the agent it acts as (its policy then governs
 * everything the host does), or denies it.
 */
export function McpConsent({ uid }: { uid: string }): JSX.Element {
  const loaded = useLoad(async () => {
    const [view, agents] = await Promise.all([client.mcpConsent.get(uid), listAll(client.agents.iterate(WHOLE))]);
    return { view, agents };
  }, [uid]);
  const [choice, setChoice] = useState<'existing' | 'new'>('existing');
  const [agent, setAgent] = useState('');
  const [newName, setNewName] = useState('');
  const action = useAction();

  const finish = (redirectTo: string): void => {
    const target = safeRedirect(redirectTo);
    if (target === undefined) throw new Error('the server answered with an unexpected address');
    location.assign(target);
  };

  if (loaded.error !== undefined) {
    return (
      <section>
        <PageHeader title="Authorize an MCP client" />
        <ErrorText error={loaded.error} />
      </section>
    );
  }
  if (loaded.data === undefined) return <p role="status">Loading…</p>;
  const { view, agents } = loaded.data;
  const chosen = choice === 'existing' ? agent || agents[0]?.name || '' : newName.trim();
  return (
    <section>
      <PageHeader title="Authorize an MCP client" />
      <dl class="facts">
        <dt>Client</dt>
        <dd data-testid="client-name">{view.client.name ?? '(no name given)'}</dd>
        <dt>Client id</dt>
        <dd>
          <code>{view.client.clientId}</code>
        </dd>
        <dt>Where its description comes from</dt>
        <dd>
          <Source view={view} />
        </dd>
        <dt>Sends you back to</dt>
        <dd>
          <code data-testid="redirect-uri">{view.redirectUri}</code>
        </dd>
        <dt>For</dt>
        <dd>
          <code>{view.resource}</code> {view.scopes.length > 0 ? `(scopes: ${view.scopes.join(' ')})` : null}
        </dd>
        <dt>Expires</dt>
        <dd>{when(view.expiresAt)}</dd>
      </dl>
      <p>The client will act as one agent: it can do exactly what that agent's policy allows, and everything it does is audited as that agent.</p>
      <p class="panel" role="note" data-testid="started-here">
        <strong>Allow only an authorization you started yourself, in this browser, just now.</strong> The MCP host whose browser
        started it is the one that gets access: a link to this page sent by someone else would let their host act as the agent
        you pick.
      </p>
      <fieldset>
        <legend>Act as</legend>
        <label class="inline">
          <input type="radio" name="as" id="as-existing" checked={choice === 'existing'} onChange={() => setChoice('existing')} /> an existing agent
        </label>
        {choice === 'existing' ? (
          <Field id="agent" label="Agent">
            <select id="agent" value={agent || agents[0]?.name || ''} onChange={(e) => setAgent(e.currentTarget.value)}>
              {agents.map((a) => (
                <option key={a.id} value={a.name}>
                  {a.name}
                </option>
              ))}
            </select>
          </Field>
        ) : null}
        <label class="inline">
          <input type="radio" name="as" id="as-new" checked={choice === 'new'} onChange={() => setChoice('new')} /> a new agent (it may do nothing until you give it a policy)
        </label>
        {choice === 'new' ? (
          <Field id="new-agent" label="New agent's name">
            <input id="new-agent" value={newName} onInput={(e) => setNewName(e.currentTarget.value)} />
          </Field>
        ) : null}
      </fieldset>
      <ErrorText error={action.error} />
      <p class="actions">
        <button
          type="button"
          id="approve"
          disabled={action.busy || chosen === ''}
          onClick={() =>
            void action.run(async () => {
              const body = choice === 'existing' ? { agent: chosen } : { newAgent: { name: chosen } };
              finish((await client.mcpConsent.decide(uid, body)).redirectTo);
            })
          }
        >
          Allow
        </button>{' '}
        <button
          type="button"
          id="deny"
          class="danger"
          disabled={action.busy}
          onClick={() => void action.run(async () => finish((await client.mcpConsent.decide(uid, { deny: true })).redirectTo))}
        >
          Deny
        </button>
      </p>
    </section>
  );
}
