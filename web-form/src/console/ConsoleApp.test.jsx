import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { stubFetch } from '../test-fetch.js';
import { ConsoleApp } from './ConsoleApp.jsx';
import { AUTONOMY, RELEASED } from './test-data.js';

const KEY = 'fte_abc_secret';

/** The admin API as it answers a valid key; `valid.key = false` makes every call a 401. */
function adminServer(valid = { key: true }) {
  return stubFetch(({ path, headers }) => {
    if (!valid.key || headers.Authorization !== `Bearer ${KEY}`)
      return [401, { detail: 'the API key is not valid' }];
    const answers = {
      '/api/v1/admin/whoami': { tenant_id: 'techcorp', name: 'ops-lead', role: 'admin' },
      '/api/v1/admin/autonomy': AUTONOMY,
      '/api/v1/admin/kill-switch': RELEASED,
      '/api/v1/admin/proposals': { proposals: [] },
      '/api/v1/admin/activity': { entries: [], next_before_id: null },
      '/api/v1/admin/customers': { customers: [] },
      '/api/v1/admin/suggestions': { suggestions: [] },
    };
    return path in answers ? [200, answers[path]] : [404, { detail: 'Not Found' }];
  });
}

async function signIn(user, key = KEY) {
  await user.type(screen.getByLabelText('Operator key'), key);
  await user.click(screen.getByRole('button', { name: 'Sign in' }));
}

describe('ConsoleApp', () => {
  it('refuses a key the API does not know, and keeps nothing', async () => {
    const calls = adminServer();
    const user = userEvent.setup();
    render(<ConsoleApp />);
    await signIn(user, 'fte_wrong');

    await waitFor(() =>
      expect(screen.getByLabelText('Operator key')).toHaveAccessibleDescription(/That key was not accepted/),
    );
    expect(calls.map((call) => call.path)).toEqual(['/api/v1/admin/whoami']);
    expect(sessionStorage.length).toBe(0);
  });

  it('asks for a key before asking the API', async () => {
    const calls = adminServer();
    const user = userEvent.setup();
    render(<ConsoleApp />);
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByLabelText('Operator key')).toHaveAccessibleDescription(/Enter your operator key/);
    expect(calls).toHaveLength(0);
  });

  it('signs in with a valid key, kept in sessionStorage only, and signs out', async () => {
    const calls = adminServer();
    const user = userEvent.setup();
    const { unmount } = render(<ConsoleApp />);
    await signIn(user);

    expect(await screen.findByRole('heading', { name: 'Autonomy Control Center' })).toBeInTheDocument();
    expect(screen.getByText('techcorp')).toBeInTheDocument();
    expect(screen.getByText(/ops-lead \(admin\)/)).toBeInTheDocument();
    expect(JSON.stringify(sessionStorage)).toContain(KEY);
    expect(localStorage.length).toBe(0);
    expect(window.location.href).not.toContain(KEY);
    await waitFor(() => expect(calls.map((call) => call.path)).toContain('/api/v1/admin/proposals'));
    expect(calls.every((call) => call.path.startsWith('/api/v1/admin/'))).toBe(true);

    unmount(); // a reload of the tab: still signed in
    render(<ConsoleApp />);
    expect(screen.getByRole('heading', { name: 'Autonomy Control Center' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(screen.getByRole('status')).toHaveTextContent('You are signed out.');
    expect(sessionStorage.length).toBe(0);
  });

  it('goes back to sign-in when the key is revoked while signed in', async () => {
    const valid = { key: true };
    adminServer(valid);
    const user = userEvent.setup();
    render(<ConsoleApp />);
    await signIn(user);
    await screen.findByRole('heading', { name: 'Autonomy Control Center' });

    valid.key = false;
    await user.click(await screen.findByRole('radio', { name: 'Approve' }));
    await user.click(screen.getByRole('button', { name: 'Save mode' }));
    expect(await screen.findByText('Your key is no longer valid. Sign in again.')).toBeInTheDocument();
    expect(sessionStorage.length).toBe(0);
  });

  it("signs in from fte up's console link, takes the token off the URL, and opens Health", async () => {
    window.history.replaceState(null, '', '/console#token=tok_abcdefghijklmnopqrstuvwxyz');
    const calls = stubFetch(({ path, body }) => {
      if (path === '/api/v1/console/local-sign-in')
        return body.token === 'tok_abcdefghijklmnopqrstuvwxyz'
          ? [200, { key: KEY, tenant_id: 'techcorp', name: 'local console (fte up)', role: 'admin' }]
          : [401, { detail: 'used already' }];
      const answers = {
        '/api/v1/admin/autonomy': AUTONOMY,
        '/api/v1/admin/kill-switch': RELEASED,
        '/api/v1/admin/proposals': { proposals: [] },
        '/api/v1/admin/activity': { entries: [], next_before_id: null },
        '/api/v1/admin/customers': { customers: [] },
        '/api/v1/metrics/alerts': { alerts: [] },
        '/api/v1/metrics/series': { step_s: 300, points: [] },
      };
      return path in answers ? [200, answers[path]] : [404, { detail: 'Not Found' }];
    });
    const user = userEvent.setup();
    render(<ConsoleApp />);
    expect(await screen.findByText(/local console \(fte up\)/)).toBeInTheDocument();
    expect(window.location.hash).toBe('');
    expect(JSON.parse(Object.values(sessionStorage)[0]).key).toBe(KEY);
    expect(calls.filter((call) => call.path === '/api/v1/console/local-sign-in')).toHaveLength(1);

    await user.click(screen.getByRole('button', { name: 'Health' }));
    expect(await screen.findByText('No open alerts: every threshold is met.')).toBeInTheDocument();
    expect(window.location.hash).toBe('#health');
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Health');
  });

  it('opens "What should I do next?" from the navigation, and keeps it in the URL', async () => {
    adminServer();
    const user = userEvent.setup();
    window.history.replaceState(null, '', '/console');
    render(<ConsoleApp />);
    await signIn(user);
    await user.click(await screen.findByRole('button', { name: 'What should I do next?' }));
    expect(window.location.hash).toBe('#suggestions');
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('What should I do next?');
    expect(await screen.findByText('No suggestions right now.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'What should I do next?' })).toHaveAttribute(
      'aria-current',
      'page',
    );
  });
});
