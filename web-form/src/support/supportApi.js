import { request } from '../shared/api.js';

/** The public API the support form uses, at `origin` ('' for the page's own). */
export function supportApi(origin = '') {
  return {
    submit: (form, idempotencyKey) =>
      request(`${origin}/api/v1/support/form`, {
        method: 'POST',
        body: form,
        headers: { 'Idempotency-Key': idempotencyKey },
      }),
    /** The ticket's status and conversation: only its access token opens it. */
    ticket: (ticketId, token, signal) =>
      request(`${origin}/api/v1/tickets/${encodeURIComponent(ticketId)}`, {
        signal,
        headers: { Authorization: `Bearer ${token}` },
      }),
    /** The ticket's access token, for its number and the email it was opened with. */
    lookup: (ticketId, email) =>
      request(`${origin}/api/v1/tickets/lookup`, {
        method: 'POST',
        body: { ticket_id: ticketId, email },
      }),
  };
}

/** The status page's address, the token in its fragment: a fragment is never sent to a server. */
export function statusHref(origin, ticketId, token) {
  return `${origin}/support/tickets/${encodeURIComponent(ticketId)}#token=${encodeURIComponent(token)}`;
}
