import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { SessionView } from '../../../src/sdk/index.js';
import { client, describeError } from '../api.js';
import { ErrorText, Field } from '../ui.js';

/**
 * Password sign-in, and the one-time sign-in link (`#token=…`): the token is
 * in the fragment so it never reaches a server log or a Referer; it is read,
 * wiped from the address bar at once, and posted to /v1/sessions.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (session: SessionView) => void }): JSX.Element {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = 'Sign in · Latchkey console';
    const token = new URLSearchParams(location.hash.slice(1)).get('token');
    if (token === null) return;
    history.replaceState(null, '', location.pathname + location.search);
    setBusy(true);
    client.sessions.create({ signInToken: token }).then(onSignedIn, (err: unknown) => {
      setBusy(false);
      setError(`This sign-in link did not work: ${describeError(err)}`);
    });
  }, []);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const session = await client.sessions.create({ name, password });
      setPassword('');
      onSignedIn(session);
    } catch (err) {
      setBusy(false);
      setError(describeError(err));
    }
  };

  return (
    <section class="sign-in">
      <h1 id="page-title">Sign in to Latchkey</h1>
      <form onSubmit={(e) => void submit(e)} aria-describedby="sign-in-error">
        <Field id="sign-in-name" label="Operator name">
          <input id="sign-in-name" name="username" autocomplete="username" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field id="sign-in-password" label="Password">
          <input
            id="sign-in-password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <div id="sign-in-error">
          <ErrorText error={error} />
        </div>
      </form>
      <p class="hint">An admin can also give you a one-time sign-in link (latchkey operators sign-in-link NAME).</p>
    </section>
  );
}
