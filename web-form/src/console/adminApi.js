import { request, send } from '../shared/api.js';

const METRICS = '/api/v1/metrics';

const query = (params) =>
  new URLSearchParams(
    Object.entries(params).filter(([, value]) => value !== undefined && value !== null && value !== ''),
  ).toString();

/**
 * The admin API (/api/v1/admin) with an operator's key. `onUnauthorized` runs when the key
 * stops being valid (revoked while signed in).
 */
export function adminApi(key, { origin = '', onUnauthorized = () => {} } = {}) {
  const headers = { Authorization: `Bearer ${key}` };

  async function call(path, { method = 'GET', body, raw = false, base = '/api/v1/admin' } = {}) {
    try {
      const options = { method, body, headers };
      const url = `${origin}${base}${path}`;
      return raw ? await send(url, options) : await request(url, options);
    } catch (error) {
      if (error.status === 401) onUnauthorized(error);
      throw error;
    }
  }
  const post = (path, body = {}) => call(path, { method: 'POST', body });
  const put = (path, body) => call(path, { method: 'PUT', body });
  const customer = (id) => `/customers/${encodeURIComponent(id)}`;
  const proposal = (id) => `/proposals/${encodeURIComponent(id)}`;
  const suggestion = (id) => `/suggestions/${encodeURIComponent(id)}`;

  return {
    whoami: () => call('/whoami'),
    autonomy: () => call('/autonomy'),
    setMode: (mode) => put('/autonomy', { mode }),
    killSwitch: () => call('/kill-switch'),
    setKillSwitch: (engaged, reason) => post('/kill-switch', { engaged, reason }),
    customers: (q) => call(`/customers?${query({ limit: 50, q })}`),
    setHandsOff: (id, enabled) => put(`${customer(id)}/hands-off`, { enabled }),
    closeEscalation: (id, reason) => post(`${customer(id)}/escalation/close`, { reason }),
    customerHealth: (id) => call(`${customer(id)}/health`),
    proposals: () => call('/proposals?status=pending&limit=50'),
    approve: (id) => post(`${proposal(id)}/approve`),
    edit: (id, text) => post(`${proposal(id)}/edit`, { text }),
    reject: (id, reason) => post(`${proposal(id)}/reject`, { reason }),
    suggestions: () => call('/suggestions?limit=50'),
    approveSuggestion: (id) => post(`${suggestion(id)}/approve`),
    editSuggestion: (id, changes) => post(`${suggestion(id)}/edit`, changes),
    dismissSuggestion: (id, reason) => post(`${suggestion(id)}/dismiss`, { reason }),
    snoozeSuggestion: (id, hours) => post(`${suggestion(id)}/snooze`, { hours }),
    activity: (beforeId) =>
      call(`/activity?${query({ limit: 50, event_type: 'executed_action', before_id: beforeId })}`),
    // The operators' view from the database (/api/v1/metrics).
    channelMetrics: (period) => call(`/channels?${query({ period })}`, { base: METRICS }),
    series: (hours, stepS) => call(`/series?${query({ hours, step_s: stepS })}`, { base: METRICS }),
    alerts: () => call('/alerts', { base: METRICS }),
    exportAudit: async (format) => (await call(`/audit/export?format=${format}`, { raw: true })).blob(),
  };
}

/** Trade the one-time token of `fte up`'s console link for a session ({ key, tenant_id, ... }). */
export const localSignIn = (token, { origin = '' } = {}) =>
  request(`${origin}/api/v1/console/local-sign-in`, { method: 'POST', body: { token } });
