import { describe, expect, it, vi } from 'vitest';
import { stubFetch } from '../test-fetch.js';
import { ApiError, request } from './api.js';

describe('request', () => {
  it('sends JSON and returns the JSON answer', async () => {
    const calls = stubFetch(() => [201, { ticket_id: 'TKT-1' }]);
    const answer = await request('/x', {
      method: 'POST',
      body: { a: 1 },
      headers: { 'Idempotency-Key': 'k' },
    });
    expect(answer).toEqual({ ticket_id: 'TKT-1' });
    expect(calls[0]).toMatchObject({
      method: 'POST',
      body: { a: 1 },
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'k' },
    });
  });

  it("turns a 422 into an ApiError with the server's reasons by field", async () => {
    stubFetch(() => [
      422,
      {
        detail: 'the request is not valid',
        errors: [
          { field: 'phone', reason: 'Value error, not a valid phone number' },
          { field: 'phone', reason: 'a second reason' },
          { field: 'email', reason: 'value is not a valid email address' },
        ],
      },
    ]);
    const error = await request('/x').catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.message).toBe('the request is not valid');
    expect(error.fieldErrors()).toEqual({
      phone: 'not a valid phone number',
      email: 'value is not a valid email address',
    });
  });

  it('says the service is unavailable when a 5xx has no JSON reason', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response('<html>bad gateway</html>', { status: 502 })),
    );
    const error = await request('/x').catch((e) => e);
    expect(error.status).toBe(502);
    expect(error.message).toMatch(/unavailable/);
  });

  it('says the server could not be reached when the network fails', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))),
    );
    const error = await request('/x').catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/could not be reached/);
  });

  it('returns null for an empty answer', async () => {
    stubFetch(() => [204, undefined]);
    expect(await request('/x')).toBeNull();
  });
});
