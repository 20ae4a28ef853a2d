import { useMemo, useReducer, useState } from 'react';
import { adminApi } from './adminApi.js';
import { AuditExport } from './AuditExport.jsx';
import { AutonomyMode } from './AutonomyMode.jsx';
import { Customers } from './Customers.jsx';
import { Inbox } from './Inbox.jsx';
import { KillSwitch } from './KillSwitch.jsx';
import { clearSession, loadSession, saveSession } from './session.js';
import { SignIn } from './SignIn.jsx';
import { Timeline } from './Timeline.jsx';

/** The operator console: sign in, then the tenant's Autonomy Control Center. */
export function ConsoleApp({ origin = '' }) {
  const [session, setSession] = useState(loadSession);
  const [notice, setNotice] = useState(null);
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
        <h1>Autonomy Control Center</h1>
        <p className="console__who">
          Tenant <strong>{session.tenant_id}</strong> · {session.name} ({session.role})
        </p>
        <button type="button" className="button button--quiet" onClick={signOut}>
          Sign out
        </button>
      </header>
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
    </div>
  );
}
