// The one way the front end talks to the API: JSON in, JSON out, errors as ApiError.

const UNREACHABLE = 'The server could not be reached. Check your connection and try again.';

/** An answer that was not 2xx, with the server's reason and its per-field errors. */
export class ApiError extends Error {
  constructor(status, message, errors = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors;
  }

  /** The server's per-field reasons as { field: reason } (the first reason of each field). */
  fieldErrors() {
    const found = {};
    for (const { field, reason } of this.errors) {
      // Pydantic prefixes a validator's own message; the reader needs only the message.
      if (field && !(field in found)) found[field] = String(reason).replace(/^Value error, /, '');
    }
    return found;
  }
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function describe(status, payload) {
  if (typeof payload?.detail === 'string') return payload.detail;
  if (status >= 500) return 'The service is unavailable right now. Please try again in a moment.';
  return `The request failed (HTTP ${status}).`;
}

/** Send a request and return its Response when it is 2xx; throw ApiError otherwise. */
export async function send(url, { method = 'GET', body, headers = {}, signal } = {}) {
  const init = { method, headers: { ...headers }, signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError(0, UNREACHABLE);
  }
  if (!response.ok) {
    const payload = await readJson(response);
    throw new ApiError(response.status, describe(response.status, payload), payload?.errors ?? []);
  }
  return response;
}

/** Send a request and return its JSON body (null for an empty one). */
export async function request(url, options) {
  return readJson(await send(url, options));
}
