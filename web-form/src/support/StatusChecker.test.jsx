import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../shared/api.js';
import { StatusChecker } from './StatusChecker.jsx';

const asked = {
  direction: 'inbound',
  author: 'customer',
  channel: 'web_form',
  content: 'How do I reset my password?',
  created_at: '2026-01-01T10:00:00Z',
};
const answered = {
  direction: 'outbound',
  author: 'agent',
  channel: 'web_form',
  content: 'Open the sign-in page and choose "Forgot password".',
  created_at: '2026-01-01T10:00:02Z',
};

const view = (messages, status = 'open') => ({
  ticket_id: 'TKT-1000',
  status,
  subject: 'Password reset',
  messages,
});

const conversation = () => within(screen.getByRole('list', { name: 'Conversation' }));

const TOKEN = 'tkt_the-customers-own-token';

describe('StatusChecker', () => {
  it("polls with the ticket's token until the agent's reply arrives, shows it, then stops", async () => {
    const ticket = vi
      .fn()
      .mockResolvedValueOnce(view([asked]))
      .mockResolvedValueOnce(view([asked]))
      .mockResolvedValue(view([asked, answered], 'resolved'));
    render(<StatusChecker api={{ ticket }} initialTicketId="TKT-1000" initialToken={TOKEN} pollMs={5} />);

    expect(await screen.findByRole('status')).toHaveTextContent('Waiting for a reply');
    expect(await conversation().findByText(/Forgot password/)).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'TKT-1000: Password reset' })).toBeInTheDocument();
    expect(screen.getByText('Resolved')).toBeInTheDocument();
    expect(
      conversation()
        .getAllByRole('listitem')
        .map((item) => item.textContent),
    ).toEqual([
      expect.stringMatching(/^You ·.*How do I reset my password\?$/),
      expect.stringMatching(/^Support ·.*Forgot password/),
    ]);
    expect(screen.getByRole('status')).toHaveTextContent('');
    expect(ticket).toHaveBeenCalledWith('TKT-1000', TOKEN, expect.any(AbortSignal));
    const polls = ticket.mock.calls.length;
    expect(polls).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ticket).toHaveBeenCalledTimes(polls);
  });

  it('opens a ticket by its number and email: the server gives the token, then it is read', async () => {
    const lookup = vi.fn(async () => ({ ticket_id: 'TKT-42', access_token: TOKEN }));
    const ticket = vi.fn(async () => ({ ...view([asked, answered]), ticket_id: 'TKT-42' }));
    const user = userEvent.setup();
    render(<StatusChecker api={{ ticket, lookup }} pollMs={5} />);
    await user.type(screen.getByLabelText('Ticket number'), ' tkt-42 ');
    await user.type(screen.getByLabelText('Your email'), ' ada@example.com ');
    await user.click(screen.getByRole('button', { name: 'Check status' }));

    expect(await screen.findByRole('article', { name: 'Ticket TKT-42' })).toBeInTheDocument();
    expect(lookup).toHaveBeenCalledWith('TKT-42', 'ada@example.com');
    expect(ticket).toHaveBeenCalledWith('TKT-42', TOKEN, expect.any(AbortSignal));
    expect(screen.getByRole('alert')).toBeEmptyDOMElement();
  });

  it('says so when no ticket has that number and email, and reads nothing', async () => {
    const lookup = vi.fn(async () => Promise.reject(new ApiError(404, 'no such ticket')));
    const ticket = vi.fn();
    const user = userEvent.setup();
    render(<StatusChecker api={{ ticket, lookup }} pollMs={5} />);
    await user.type(screen.getByLabelText('Ticket number'), 'TKT-42');
    await user.type(screen.getByLabelText('Your email'), 'ada@example.com');
    await user.click(screen.getByRole('button', { name: 'Check status' }));

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'We found no ticket TKT-42 opened with that email address. Check both and try again.',
    );
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(ticket).not.toHaveBeenCalled();
    expect(screen.getByRole('button', { name: 'Check status' })).toBeEnabled();
  });

  it("shows the server's reason when it refuses more lookups", async () => {
    const lookup = vi.fn(async () =>
      Promise.reject(new ApiError(429, 'too many failed ticket lookups; try again later')),
    );
    const user = userEvent.setup();
    render(<StatusChecker api={{ ticket: vi.fn(), lookup }} />);
    await user.type(screen.getByLabelText('Ticket number'), 'TKT-42');
    await user.type(screen.getByLabelText('Your email'), 'ada@example.com');
    await user.click(screen.getByRole('button', { name: 'Check status' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('too many failed ticket lookups');
  });

  it('refuses a malformed ticket number or a missing email without asking the server', async () => {
    const ticket = vi.fn();
    const lookup = vi.fn();
    const user = userEvent.setup();
    render(<StatusChecker api={{ ticket, lookup }} />);
    await user.type(screen.getByLabelText('Ticket number'), '1000');
    await user.keyboard('{Enter}');
    expect(screen.getByLabelText('Ticket number')).toHaveAccessibleDescription(
      'Enter a ticket number like TKT-1000.',
    );

    await user.clear(screen.getByLabelText('Ticket number'));
    await user.type(screen.getByLabelText('Ticket number'), 'TKT-1000');
    await user.keyboard('{Enter}');
    expect(screen.getByLabelText('Your email')).toHaveAccessibleDescription(
      'Enter the email address you opened the ticket with.',
    );
    expect(ticket).not.toHaveBeenCalled();
    expect(lookup).not.toHaveBeenCalled();
  });

  it('a status page opened without its token asks for the email instead of reading', async () => {
    const ticket = vi.fn();
    render(<StatusChecker api={{ ticket }} initialTicketId="TKT-1000" pollMs={5} />);
    expect(screen.getByRole('alert')).toHaveTextContent(
      'Enter the email address you opened TKT-1000 with to see it.',
    );
    expect(screen.getByLabelText('Ticket number')).toHaveValue('TKT-1000');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ticket).not.toHaveBeenCalled();
  });

  it('a link whose token does not open the ticket says so and stops asking', async () => {
    const ticket = vi.fn(async () => Promise.reject(new ApiError(404, 'no such ticket')));
    render(<StatusChecker api={{ ticket }} initialTicketId="TKT-1000" initialToken="tkt_stale" pollMs={5} />);
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'This link does not open ticket TKT-1000. Enter the email address you opened it with.',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ticket).toHaveBeenCalledTimes(1);
  });

  it('keeps trying through an outage and clears the error when the server answers', async () => {
    const ticket = vi
      .fn()
      .mockRejectedValueOnce(new ApiError(0, 'The server could not be reached.'))
      .mockResolvedValue(view([asked, answered]));
    render(<StatusChecker api={{ ticket }} initialTicketId="TKT-1000" initialToken={TOKEN} pollMs={5} />);

    expect(await screen.findByText('The server could not be reached.')).toBeInTheDocument();
    expect(await screen.findByText(/Forgot password/)).toBeInTheDocument();
    expect(screen.getByRole('alert')).toBeEmptyDOMElement();
  });

  it('checks the ticket on screen again on demand, with the token it has', async () => {
    const ticket = vi.fn(async () => view([asked, answered]));
    const lookup = vi.fn();
    const user = userEvent.setup();
    render(
      <StatusChecker api={{ ticket, lookup }} initialTicketId="TKT-1000" initialToken={TOKEN} pollMs={5} />,
    );
    await screen.findByText(/Forgot password/);
    await user.click(screen.getByRole('button', { name: 'Check status' }));
    await waitFor(() => expect(ticket).toHaveBeenCalledTimes(2));
    expect(ticket).toHaveBeenLastCalledWith('TKT-1000', TOKEN, expect.any(AbortSignal));
    expect(lookup).not.toHaveBeenCalled();
  });
});
