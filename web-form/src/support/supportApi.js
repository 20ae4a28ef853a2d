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
    ticket: (ticketId, signal) =>
      request(`${origin}/api/v1/tickets/${encodeURIComponent(ticketId)}`, { signal }),
  };
}
