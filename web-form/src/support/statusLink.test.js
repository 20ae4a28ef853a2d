import { describe, expect, it, vi } from 'vitest';
import { statusHref, supportApi } from './supportApi.js';
import { tokenFromLocation } from './statusLink.js';
import { stubFetch } from '../test-fetch.js';

const at = (href) => {
  const url = new URL(href);
  return { pathname: url.pathname, search: url.search, hash: url.hash };
};

describe('the status link', () => {
  it('carries the token in its fragment, which no request sends', () => {
    expect(statusHref('https://help.example', 'TKT-7', 'tkt_a-b_c')).toBe(
      'https://help.example/support/tickets/TKT-7#token=tkt_a-b_c',
    );
  });

  it('gives the page the token of its fragment and leaves the address alone', () => {
    const history = { state: null, replaceState: vi.fn() };
    expect(tokenFromLocation(at('https://h.example/support/tickets/TKT-7#token=tkt_x'), history)).toBe(
      'tkt_x',
    );
    expect(history.replaceState).not.toHaveBeenCalled();
  });

  it('moves a ?token= into the fragment, so a reload does not send it again', () => {
    const history = { state: { k: 1 }, replaceState: vi.fn() };
    const location = at('https://h.example/support/tickets/TKT-7?token=tkt_x&lang=en');
    expect(tokenFromLocation(location, history)).toBe('tkt_x');
    expect(history.replaceState).toHaveBeenCalledWith(
      { k: 1 },
      '',
      '/support/tickets/TKT-7?lang=en#token=tkt_x',
    );
  });

  it('has no token when the link carries none', () => {
    const history = { state: null, replaceState: vi.fn() };
    expect(tokenFromLocation(at('https://h.example/support/tickets/TKT-7'), history)).toBeNull();
  });
});

describe('supportApi', () => {
  it('reads a ticket with its token as a bearer credential, and looks one up by number and email', async () => {
    const calls = stubFetch(async () => [200, {}]);
    const api = supportApi('https://api.example');
    await api.ticket('TKT-7', 'tkt_x');
    await api.lookup('TKT-7', 'ada@example.com');
    expect(calls[0]).toMatchObject({
      url: 'https://api.example/api/v1/tickets/TKT-7',
      method: 'GET',
      headers: { Authorization: 'Bearer tkt_x' },
    });
    expect(calls[1]).toMatchObject({
      url: 'https://api.example/api/v1/tickets/lookup',
      method: 'POST',
      body: { ticket_id: 'TKT-7', email: 'ada@example.com' },
    });
  });
});
