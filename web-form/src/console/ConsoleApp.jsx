import { lazy, Suspense, useEffect, useMemo, useReducer, useState } from 'react';
import { adminApi, localSignIn } from './adminApi.js';
import { AuditExport } from './AuditExport.jsx';
import { AutonomyMode } from './AutonomyMode.jsx';
import { Customers } from './Customers.jsx';
import { Inbox } from './Inbox.jsx';
import { KillSwitch } from './KillSwitch.jsx';
import { clearSession, loadSession, saveSession } from './session.js';
import { SignIn } from './SignIn.jsx';
import { Suggestions } from './Suggestions.jsx';
import { Timeline } from './Timeline.jsx';

// The charts (and their library) load only when the Health page is opened.
const Health = lazy(() => import('./Health.jsx').then((module) => ({ default: module.Health })));

/** The one-time token of `fte up`'s console link (`/console#token=...`), taken off the URL. */
function takeLinkToken() {
  const match = /^#token=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
  if (!match) return null;
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  return match[1];
}

const PAGES = { health: 'Health', suggestions: 'What should I do next?' };
const viewOfHash = () => (PAGES[window.location.hash.slice(1)] ? window.location.hash.slice(1) : 'control');

/** The operator console: sign in, then the tenant's Autonomy Control Center. */
export function ConsoleApp({ origin = '' }) {
  const [session, setSession] = useState(loadSession);
  const [notice, setNotice] = useState(null);
  const [linkToken] = useState(takeLinkToken);
  const [view, setView] = useState(viewOfHash);
  // Every change bumps the revision, so every panel reloads at once instead of at its next poll.
  const [revision, bump] = useReducer((n) => n + 1, 0);

  const api = useMemo(() => {
    if (!session) return null;
    return adminApi(session.key, {
      origin,
      onUnauthorized: () => {
        clearSession();
        setSession(null);
        setNotice('Your key is no longer valid. Sign in again.');
      },
    });
  }, [session, origin]);

  useEffect(() => {
    if (!linkToken) return;
    localSignIn(linkToken, { origin }).then(
      (signedIn) => {
        saveSession(signedIn);
        setSession(signedIn);
      },
      (error) => setNotice(error.message),
    );
  }, [linkToken, origin]);

  function show(next) {
    window.history.replaceState(null, '', PAGES[next] ? `#${next}` : window.location.pathname);
    setView(next);
  }

  if (!session) {
    return (
      <SignIn
        connect={(key) => adminApi(key, { origin })}
        notice={notice}
        onSignedIn={(signedIn) => {
          saveSession(signedIn);
          setNotice(null);
          setSession(signedIn);
        }}
      />
    );
  }

  function signOut() {
    clearSession();
    setSession(null);
    setNotice('You are signed out.');
  }

  const isAdmin = session.role === 'admin';
  const panel = { api, revision, onChange: bump };
  return (
    <div>
      <header className="console__header">
        <h1>{PAGES[view] ?? 'Autonomy Control Center'}</h1>
        <nav className="console__nav" aria-label="Pages">
          <button
            type="button"
            className="button button--quiet"
            aria-current={view === 'control' ? 'page' : undefined}
            onClick={() => show('control')}
          >
            Control center
          </button>
          <button
            type="button"
            className="button button--quiet"
            aria-current={view === 'health' ? 'page' : undefined}
            onClick={() => show('health')}
          >
            Health
          </button>
          <button
            type="button"
            className="button button--quiet"
            aria-current={view === 'suggestions' ? 'page' : undefined}
            onClick={() => show('suggestions')}
          >
            What should I do next?
          </button>
        </nav>
        <p className="console__who">
          Tenant <strong>{session.tenant_id}</strong> · {session.name} ({session.role})
        </p>
        <button type="button" className="button button--quiet" onClick={signOut}>
          Sign out
        </button>
      </header>
      {view === 'suggestions' ? (
        <main className="console__suggestions">
          <Suggestions {...panel} />
        </main>
      ) : view === 'health' ? (
        <main className="console__health">
          <Suspense fallback={<p role="status">Loading the charts…</p>}>
            <Health api={api} revision={revision} />
          </Suspense>
        </main>
      ) : (
        <main className="console__grid">
          <div className="console__main">
            <Inbox {...panel} />
            <Timeline api={api} revision={revision} />
          </div>
          <aside className="console__side" aria-label="Controls">
            <AutonomyMode {...panel} isAdmin={isAdmin} />
            <KillSwitch {...panel} isAdmin={isAdmin} />
            <AuditExport api={api} tenantId={session.tenant_id} />
          </aside>
          <div className="console__wide">
            <Customers {...panel} />
          </div>
        </main>
      )}
    </div>
  );
}
