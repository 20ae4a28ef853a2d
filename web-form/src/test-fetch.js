// Vitest helper: a fetch that answers from a handler and records every call.
import { vi } from 'vitest';

/** Replace fetch; `answer(call)` returns [status, body] (or a promise of them). */
export function stubFetch(answer) {
  const calls = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url, init = {}) => {
      const call = {
        url: String(url),
        path: new URL(String(url), 'http://page.test').pathname,
        method: init.method ?? 'GET',
        headers: init.headers ?? {},
        body: init.body === undefined ? undefined : JSON.parse(init.body),
      };
      calls.push(call);
      const [status, body] = await answer(call);
      return new Response(body === undefined ? null : JSON.stringify(body), {
        status,
        headers: { 'Content-Type': 'application/json' },
      });
    }),
  );
  return calls;
}

/** A promise and the functions that settle it, for answers a test releases when it wants. */
export function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}
