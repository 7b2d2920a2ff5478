import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { ProviderCreate, ProviderView } from '../../../src/sdk/index.js';
import { client } from '../api.js';
import { useCan } from '../session.js';
import { DataTable, Dialog, ErrorText, Field, PageHeader, SecretDialog, Status, splitList, useAction, useLoad } from '../ui.js';

type Mode = 'discovery' | 'preset' | 'manual';

function AddProvider({ onDone }: { onDone: () => void }): JSX.Element {
  const presets = useLoad(() => client.presets());
  const [mode, setMode] = useState<Mode>('discovery');
  const [form, setForm] = useState<Record<string, string>>({});
  const action = useAction();
  const set = (key: string) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) => setForm({ ...form, [key]: e.currentTarget.value });
  const val = (key: string): string => form[key] ?? '';

  const submit = (event: Event): void => {
    event.preventDefault();
    const body: ProviderCreate = { name: val('name').trim() };
    const put = (key: keyof ProviderCreate, value: string): void => {
      if (value.trim() !== '') (body as unknown as Record<string, unknown>)[key] = value.trim();
    };
    if (mode === 'preset') put('preset', val('preset'));
    if (mode === 'discovery') put('issuer', val('issuer'));
    if (mode === 'manual') {
      put('authorizationEndpoint', val('authorizationEndpoint'));
      put('tokenEndpoint', val('tokenEndpoint'));
    }
    put('apiBaseUrl', val('apiBaseUrl'));
    put('clientId', val('clientId'));
    if (val('clientSecret') !== '') body.clientSecret = val('clientSecret');
    const scopes = splitList(val('scopes'));
    if (scopes.length > 0) body.scopes = scopes;
    void action.run(async () => {
      await client.providers.create(body);
      setForm({});
      onDone();
    });
  };

  return (
    <form class="panel" onSubmit={submit} aria-labelledby="add-provider-title">
      <h2 id="add-provider-title">Add a provider</h2>
      <fieldset>
        <legend>Start from</legend>
        {(
          [
            ['discovery', 'Discovery'],
            ['preset', 'Preset'],
            ['manual', 'By hand'],
          ] as Array<[Mode, string]>
        ).map(([value, label]) => (
          <label key={value} class="inline">
            <input type="radio" name="provider-mode" value={value} checked={mode === value} onChange={() => setMode(value)} /> {label}
          </label>
        ))}
      </fieldset>
      <Field id="p-name" label="Name">
        <input id="p-name" required value={val('name')} onInput={set('name')} pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" />
      </Field>
      {mode === 'preset' ? (
        <Field id="p-preset" label="Preset">
          <select id="p-preset" required value={val('preset')} onChange={set('preset')}>
            <option value="">Choose…</option>
            {(presets.data ?? []).map((p) => (
              <option key={p.name} value={p.name}>
                {p.displayName}
              </option>
            ))}
          </select>
        </Field>
      ) : null}
      {mode === 'discovery' ? (
        <Field id="p-issuer" label="Issuer URL" hint="OpenID Connect or RFC 8414 discovery reads the endpoints from it.">
          <input id="p-issuer" type="url" required value={val('issuer')} onInput={set('issuer')} aria-describedby="p-issuer-hint" />
        </Field>
      ) : null}
      {mode === 'manual' ? (
        <>
          <Field id="p-auth" label="Authorization endpoint">
            <input id="p-auth" type="url" required value={val('authorizationEndpoint')} onInput={set('authorizationEndpoint')} />
          </Field>
          <Field id="p-token" label="Token endpoint">
            <input id="p-token" type="url" required value={val('tokenEndpoint')} onInput={set('tokenEndpoint')} />
          </Field>
        </>
      ) : null}
      <Field id="p-client-id" label="Client ID">
        <input id="p-client-id" value={val('clientId')} onInput={set('clientId')} autocomplete="off" />
      </Field>
      <Field id="p-client-secret" label="Client secret (optional)">
        <input id="p-client-secret" type="password" autocomplete="off" value={val('clientSecret')} onInput={set('clientSecret')} />
      </Field>
      <Field id="p-scopes" label="Scopes (space separated)">
        <input id="p-scopes" value={val('scopes')} onInput={set('scopes')} />
      </Field>
      <Field id="p-api" label="API base URL (optional)">
        <input id="p-api" type="url" value={val('apiBaseUrl')} onInput={set('apiBaseUrl')} />
      </Field>
      <button type="submit" disabled={action.busy}>
        Add provider
      </button>
      <ErrorText error={action.error} />
    </form>
  );
}

function EditProvider({ provider, onClose }: { provider: ProviderView; onClose: (changed: boolean) => void }): JSX.Element {
  const [displayName, setDisplayName] = useState(provider.displayName);
  const [clientId, setClientId] = useState(provider.clientId ?? '');
  const [clientSecret, setClientSecret] = useState('');
  const [scopes, setScopes] = useState(provider.scopes.join(' '));
  const [apiBaseUrl, setApiBaseUrl] = useState(provider.apiBaseUrl ?? '');
  const action = useAction();
  const save = (event: Event): void => {
    event.preventDefault();
    const body: Partial<ProviderCreate> = { displayName, scopes: splitList(scopes) };
    if (clientId !== (provider.clientId ?? '')) body.clientId = clientId;
    if (clientSecret !== '') body.clientSecret = clientSecret;
    if (apiBaseUrl !== (provider.apiBaseUrl ?? '') && apiBaseUrl !== '') body.apiBaseUrl = apiBaseUrl;
    void action.run(async () => {
      await client.providers.update(provider.name, body);
      onClose(true);
    });
  };
  return (
    <Dialog title={`Edit provider ${provider.name}`} onClose={() => onClose(false)}>
      <form onSubmit={save}>
        <Field id="e-display" label="Display name">
          <input id="e-display" value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} />
        </Field>
        <Field id="e-client-id" label="Client ID">
          <input id="e-client-id" value={clientId} onInput={(e) => setClientId(e.currentTarget.value)} autocomplete="off" />
        </Field>
        <Field id="e-client-secret" label="New client secret (leave empty to keep)">
          <input id="e-client-secret" type="password" autocomplete="off" value={clientSecret} onInput={(e) => setClientSecret(e.currentTarget.value)} />
        </Field>
        <Field id="e-scopes" label="Scopes">
          <input id="e-scopes" value={scopes} onInput={(e) => setScopes(e.currentTarget.value)} />
        </Field>
        <Field id="e-api" label="API base URL">
          <input id="e-api" type="url" value={apiBaseUrl} onInput={(e) => setApiBaseUrl(e.currentTarget.value)} />
        </Field>
        <button type="submit" disabled={action.busy}>
          Save
        </button>
        <ErrorText error={action.error} />
      </form>
    </Dialog>
  );
}

/** Connect an account: here in this browser, or a link for the account's owner. */
function ConnectDialog({ provider, onClose }: { provider: ProviderView; onClose: () => void }): JSX.Element {
  const [name, setName] = useState('');
  const [subject, setSubject] = useState('');
  const [link, setLink] = useState<string | undefined>(undefined);
  const action = useAction();
  const here = (): void => {
    void action.run(async () => {
      const started = await client.connect.authorizationCode(provider.name, {
        ...(name === '' ? {} : { name }),
        ...(subject === '' ? {} : { subject }),
        returnTo: '/console/connections',
      });
      location.assign(started.authorizationUrl);
    });
  };
  const makeLink = (): void => {
    void action.run(async () => {
      const made = await client.connectLinks.create({ provider: provider.name, subject: subject === '' ? 'default' : subject, ...(name === '' ? {} : { name }) });
      setLink(made.url);
    });
  };
  if (link !== undefined) {
    return <SecretDialog title="Connect link" label="Link for the account owner (single use)" value={link} note="Send this link to the person who owns the account. It works once and expires." onClose={onClose} />;
  }
  return (
    <Dialog title={`Connect an account at ${provider.name}`} onClose={onClose}>
      <Field id="c-name" label="Connection name (optional)">
        <input id="c-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <Field id="c-subject" label="Subject (whose account, optional)">
        <input id="c-subject" value={subject} onInput={(e) => setSubject(e.currentTarget.value)} />
      </Field>
      <p class="actions">
        <button type="button" id="connect-here" onClick={here} disabled={action.busy}>
          Connect in this browser
        </button>
        <button type="button" id="connect-link" onClick={makeLink} disabled={action.busy}>
          Make a connect link
        </button>
      </p>
      <ErrorText error={action.error} />
    </Dialog>
  );
}

function RemoveProvider({ provider, onClose }: { provider: ProviderView; onClose: (changed: boolean) => void }): JSX.Element {
  const [force, setForce] = useState(false);
  const action = useAction();
  return (
    <Dialog title={`Remove provider ${provider.name}`} onClose={() => onClose(false)}>
      <p>Connections that use it block the removal unless you force it.</p>
      <label class="inline">
        <input type="checkbox" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} /> Remove even with connections
      </label>
      <p>
        <button
          type="button"
          class="danger"
          disabled={action.busy}
          onClick={() =>
            void action.run(async () => {
              await client.providers.remove(provider.name, { force });
              onClose(true);
            })
          }
        >
          Remove
        </button>
      </p>
      <ErrorText error={action.error} />
    </Dialog>
  );
}

export function Providers(): JSX.Element {
  const providers = useLoad(() => client.providers.list());
  const isAdmin = useCan('admin');
  const isOperator = useCan('operator');
  const [dialog, setDialog] = useState<{ kind: 'edit' | 'remove' | 'connect'; provider: ProviderView } | undefined>(undefined);
  const close = (changed: boolean): void => {
    setDialog(undefined);
    if (changed) providers.reload();
  };
  return (
    <section>
      <PageHeader title="Providers" />
      <ErrorText error={providers.error} />
      <DataTable
        id="providers"
        caption="OAuth providers Latchkey holds clients for"
        columns={['Name', 'Display name', 'Issuer / endpoints', 'Scopes', 'Redirect URI', 'Status', 'Actions']}
        rows={providers.data}
        empty="No providers yet."
        row={(p) => (
          <tr key={p.id}>
            <td>{p.name}</td>
            <td>{p.displayName}</td>
            <td>{p.issuer ?? p.authorizationEndpoint ?? '—'}</td>
            <td>{p.scopes.join(' ')}</td>
            <td>
              <code>{p.redirectUri}</code>
            </td>
            <td>
              <Status value={p.status} />
            </td>
            <td class="row-actions">
              {isOperator ? (
                <button type="button" onClick={() => setDialog({ kind: 'connect', provider: p })}>
                  Connect…
                </button>
              ) : null}
              {isAdmin ? (
                <>
                  <button type="button" class="secondary" onClick={() => setDialog({ kind: 'edit', provider: p })}>
                    Edit
                  </button>
                  <button type="button" class="danger" onClick={() => setDialog({ kind: 'remove', provider: p })}>
                    Remove
                  </button>
                </>
              ) : null}
            </td>
          </tr>
        )}
      />
      {isAdmin ? <AddProvider onDone={providers.reload} /> : null}
      {dialog?.kind === 'edit' ? <EditProvider provider={dialog.provider} onClose={close} /> : null}
      {dialog?.kind === 'remove' ? <RemoveProvider provider={dialog.provider} onClose={close} /> : null}
      {dialog?.kind === 'connect' ? <ConnectDialog provider={dialog.provider} onClose={() => setDialog(undefined)} /> : null}
    </section>
  );
}
