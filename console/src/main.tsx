import { render, type JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { SessionView } from '../../src/sdk/index.js';
import { client, isUnauthorized, setCsrf } from './api.js';
import { navigate, useLocation, type Location } from './router.js';
import { SessionContext, type SessionState } from './session.js';
import { Link } from './ui.js';
import { SignIn } from './pages/sign-in.js';
import { Overview } from './pages/overview.js';
import { Providers } from './pages/providers.js';
import { Connections, ConnectionDetail } from './pages/connections.js';
import { Agents } from './pages/agents.js';
import { Leases } from './pages/leases.js';
import { Audit } from './pages/audit.js';
import { Webhooks } from './pages/webhooks.js';
import { Proposals } from './pages/proposals.js';
import { Operators } from './pages/operators.js';
import { McpConsent } from './pages/mcp-consent.js';
import './style.css';

const NAV: Array<{ href: string; label: string; admin?: boolean }> = [
  { href: '/', label: 'Overview' },
  { href: '/providers', label: 'Providers' },
  { href: '/connections', label: 'Connections' },
  { href: '/agents', label: 'Agents' },
  { href: '/leases', label: 'Leases' },
  { href: '/proposals', label: 'Proposals' },
  { href: '/audit', label: 'Audit' },
  { href: '/webhooks', label: 'Webhooks' },
  { href: '/operators', label: 'Operators', admin: true },
];

function page(loc: Location): JSX.Element {
  const path = loc.path.replace(/\/+$/, '') || '/';
  if (path === '/') return <Overview />;
  if (path === '/providers') return <Providers />;
  if (path === '/connections') return <Connections />;
  if (path.startsWith('/connections/')) {
    return <ConnectionDetail name={decodeURIComponent(path.slice('/connections/'.length))} reconnect={loc.query.get('reconnect') === '1'} />;
  }
  if (path === '/agents') return <Agents />;
  if (path === '/leases') return <Leases />;
  if (path === '/audit') return <Audit />;
  if (path === '/webhooks') return <Webhooks />;
  if (path === '/proposals') return <Proposals />;
  if (path === '/operators') return <Operators />;
  if (path.startsWith('/mcp/consent/')) return <McpConsent uid={decodeURIComponent(path.slice('/mcp/consent/'.length))} />;
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no console page at this address.</p>
    </section>
  );
}

function Shell({ state, loc }: { state: SessionState; loc: Location }): JSX.Element {
  const { operator } = state.session;
  const current = loc.path.replace(/\/+$/, '') || '/';
  // Each page change moves focus to the new page's heading, so screen readers announce it.
  useEffect(() => {
    document.getElementById('page-title')?.focus({ preventScroll: true });
  }, [current]);
  return (
    <SessionContext.Provider value={state}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Latchkey</span>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((item) => item.admin !== true || operator.role === 'admin').map((item) => {
              const active = item.href === '/' ? current === '/' : current === item.href || current.startsWith(`${item.href}/`);
              return (
                <li key={item.href}>
                  <Link href={item.href} aria-current={active ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div class="who">
          <span data-testid="who">
            {operator.name} ({operator.role})
          </span>{' '}
          <button type="button" class="secondary" onClick={() => void state.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">{page(loc)}</main>
    </SessionContext.Provider>
  );
}

function App(): JSX.Element {
  const loc = useLocation();
  const [session, setSession] = useState<SessionView | null | undefined>(undefined);

  const accept = (value: SessionView | null): void => {
    setCsrf(value?.csrfToken);
    setSession(value);
  };

  useEffect(() => {
    if (loc.path === '/sign-in') {
      setSession(null);
      return;
    }
    client.sessions.current().then(
      (value) => accept(value),
      (err: unknown) => {
        accept(null);
        // Back here after signing in (a needs_reauth reconnectUrl lands on a connection page).
        if (isUnauthorized(err)) navigate(`/console/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
      },
    );
    // Only the first load asks; sign-in and sign-out set the session themselves.
  }, []);

  if (loc.path === '/sign-in' || session === null) {
    return (
      <main id="main">
        <SignIn
          onSignedIn={(value) => {
            accept(value);
            const next = new URLSearchParams(location.search).get('next');
            navigate(next !== null && next.startsWith('/console/') && !next.startsWith('//') ? next : '/console/', { replace: true });
          }}
        />
      </main>
    );
  }
  if (session === undefined) {
    return (
      <main id="main">
        <p role="status">Loading…</p>
      </main>
    );
  }
  const state: SessionState = {
    session,
    signOut: async () => {
      try {
        await client.sessions.end();
      } finally {
        accept(null);
        navigate('/console/sign-in', { replace: true });
      }
    },
  };
  return <Shell state={state} loc={loc} />;
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
