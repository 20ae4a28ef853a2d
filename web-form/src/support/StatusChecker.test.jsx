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

describe('StatusChecker', () => {
  it("polls until the agent's reply arrives, shows it, then stops", async () => {
    const ticket = vi
      .fn()
      .mockResolvedValueOnce(view([asked]))
      .mockResolvedValueOnce(view([asked]))
      .mockResolvedValue(view([asked, answered], 'resolved'));
    render(<StatusChecker api={{ ticket }} initialTicketId="TKT-1000" pollMs={5} />);

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
    const polls = ticket.mock.calls.length;
    expect(polls).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ticket).toHaveBeenCalledTimes(polls);
  });

  it('says so when there is no such ticket, and stops asking', async () => {
    const ticket = vi.fn(async () => Promise.reject(new ApiError(404, 'no such ticket')));
    const user = userEvent.setup();
    render(<StatusChecker api={{ ticket }} pollMs={5} />);
    await user.type(screen.getByLabelText('Ticket number'), ' tkt-42 ');
    await user.click(screen.getByRole('button', { name: 'Check status' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('There is no ticket TKT-42.');
    expect(ticket).toHaveBeenCalledWith('TKT-42', expect.any(AbortSignal));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ticket).toHaveBeenCalledTimes(1);
  });

  it('refuses a malformed ticket number without asking the server', async () => {
    const ticket = vi.fn();
    const user = userEvent.setup();
    render(<StatusChecker api={{ ticket }} />);
    await user.type(screen.getByLabelText('Ticket number'), '1000');
    await user.keyboard('{Enter}');

    expect(screen.getByLabelText('Ticket number')).toHaveAccessibleDescription(
      'Enter a ticket number like TKT-1000.',
    );
    expect(ticket).not.toHaveBeenCalled();
  });

  it('keeps trying through an outage and clears the error when the server answers', async () => {
    const ticket = vi
      .fn()
      .mockRejectedValueOnce(new ApiError(0, 'The server could not be reached.'))
      .mockResolvedValue(view([asked, answered]));
    render(<StatusChecker api={{ ticket }} initialTicketId="TKT-1000" pollMs={5} />);

    expect(await screen.findByText('The server could not be reached.')).toBeInTheDocument();
    expect(await screen.findByText(/Forgot password/)).toBeInTheDocument();
    expect(screen.getByRole('alert')).toBeEmptyDOMElement();
  });

  it('checks again on demand after the ticket was answered', async () => {
    const ticket = vi.fn(async () => view([asked, answered]));
    const user = userEvent.setup();
    render(<StatusChecker api={{ ticket }} initialTicketId="TKT-1000" pollMs={5} />);
    await screen.findByText(/Forgot password/);
    await user.click(screen.getByRole('button', { name: 'Check status' }));
    await waitFor(() => expect(ticket).toHaveBeenCalledTimes(2));
  });
});
