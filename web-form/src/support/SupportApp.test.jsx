import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SupportApp } from './SupportApp.jsx';

const RECEIPT = {
  ticket_id: 'TKT-1007',
  status: 'open',
  message: 'Thank you! Your request was received and our team is on it.',
  created_at: '2026-01-01T10:00:00Z',
  access_token: 'tkt_only-this-customer-has-it',
};

describe('SupportApp', () => {
  it('shows the ticket id and next steps, follows the new ticket, and offers another request', async () => {
    const api = {
      submit: vi.fn(async () => RECEIPT),
      ticket: vi.fn(async () => ({
        ticket_id: 'TKT-1007',
        status: 'open',
        subject: 'Exports',
        messages: [],
      })),
    };
    const user = userEvent.setup();
    render(
      <SupportApp
        api={api}
        statusHref={(id, token) => `https://help.example/support/tickets/${id}#token=${token}`}
      />,
    );
    await user.type(screen.getByLabelText('Name'), 'Ada');
    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Subject'), 'Exports');
    await user.type(screen.getByLabelText('Message'), 'How can I export my tasks to CSV?');
    await user.click(screen.getByRole('button', { name: 'Send request' }));

    const success = screen.getByRole('region', { name: 'Request received' });
    expect(await within(success).findByRole('heading', { name: 'Request received' })).toHaveFocus();
    expect(success).toHaveTextContent('Your ticket number is TKT-1007.');
    expect(success).toHaveTextContent(RECEIPT.message);
    expect(within(success).getAllByRole('listitem')).toHaveLength(3);
    expect(within(success).getByRole('link', { name: 'Open the status page of TKT-1007' })).toHaveAttribute(
      'href',
      `https://help.example/support/tickets/TKT-1007#token=${RECEIPT.access_token}`,
    );
    expect(await screen.findByRole('article', { name: 'Ticket TKT-1007' })).toBeInTheDocument();
    expect(api.ticket).toHaveBeenCalledWith('TKT-1007', RECEIPT.access_token, expect.any(AbortSignal));
    expect(screen.getByLabelText('Ticket number')).toHaveValue('TKT-1007');

    await user.click(screen.getByRole('button', { name: 'Send another request' }));
    expect(screen.getByLabelText('Name')).toHaveValue('');
    expect(screen.queryByRole('region', { name: 'Request received' })).not.toBeInTheDocument();
  });
});
