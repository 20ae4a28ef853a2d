import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { Customers } from './Customers.jsx';

const ADA = {
  customer_id: 'c-1',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  phone: '+14155550100',
  care_state: 'engaged',
  hands_off: true,
  escalation_status: null,
  mode_override: null,
  effective_mode: 'autopilot',
  last_contact_at: '2026-01-01T10:00:00Z',
};
const GRACE = {
  ...ADA,
  customer_id: 'c-2',
  name: 'Grace Hopper',
  email: 'grace@example.com',
  phone: null,
  hands_off: false,
  escalation_status: 'open',
  mode_override: 'approve',
  effective_mode: 'approve',
};

function setup(overrides = {}) {
  const api = {
    customers: vi.fn(async () => ({ customers: [ADA, GRACE] })),
    setHandsOff: vi.fn(async () => ({})),
    closeEscalation: vi.fn(async () => ({})),
    ...overrides,
  };
  const onChange = vi.fn();
  const user = userEvent.setup();
  render(<Customers api={api} revision={0} onChange={onChange} />);
  return { api, onChange, user };
}

const row = (name) => screen.getByRole('rowheader', { name: new RegExp(name) }).closest('tr');

describe('Customers', () => {
  it('lists each customer with their care state, mode and hands-off switch', async () => {
    setup();
    const ada = await screen.findByRole('switch', { name: 'Hands-off for Ada Lovelace' });
    expect(ada).toHaveAttribute('aria-checked', 'true');
    expect(screen.getByRole('switch', { name: 'Hands-off for Grace Hopper' })).toHaveAttribute(
      'aria-checked',
      'false',
    );
    expect(row('Ada Lovelace')).toHaveTextContent('ada@example.com · +14155550100');
    expect(row('Ada Lovelace')).toHaveTextContent('engaged');
    expect(row('Grace Hopper')).toHaveTextContent('approve (own)');
  });

  it('flips hands-off, by click or keyboard, and refreshes', async () => {
    const { api, onChange, user } = setup();
    await user.click(await screen.findByRole('switch', { name: 'Hands-off for Ada Lovelace' }));
    expect(api.setHandsOff).toHaveBeenCalledWith('c-1', false);
    screen.getByRole('switch', { name: 'Hands-off for Grace Hopper' }).focus();
    await user.keyboard(' ');
    expect(api.setHandsOff).toHaveBeenLastCalledWith('c-2', true);
    await waitFor(() => expect(onChange).toHaveBeenCalledTimes(2));
  });

  it('searches by what the operator typed', async () => {
    const { api, user } = setup();
    await screen.findByRole('table');
    await user.type(screen.getByLabelText('Find a customer'), ' grace {Enter}');
    await waitFor(() => expect(api.customers).toHaveBeenLastCalledWith('grace'));
  });

  it('says when no customer matches', async () => {
    const { user } = setup({ customers: vi.fn(async () => ({ customers: [] })) });
    await user.type(screen.getByLabelText('Find a customer'), 'nobody{Enter}');
    expect(await screen.findByText('No customers match “nobody”.')).toBeInTheDocument();
  });

  it('closes an open escalation with a resolution', async () => {
    const { api, onChange, user } = setup();
    await screen.findByRole('table');
    const grace = row('Grace Hopper');
    expect(within(row('Ada Lovelace')).queryByRole('button', { name: /Escalated/ })).not.toBeInTheDocument();
    await user.click(within(grace).getByRole('button', { name: 'Escalated: close…' }));
    await user.click(within(grace).getByRole('button', { name: 'Close escalation' }));
    expect(within(grace).getByLabelText('Resolution for Grace Hopper')).toHaveAccessibleDescription(
      'Say how it was resolved.',
    );
    await user.type(
      within(grace).getByLabelText('Resolution for Grace Hopper'),
      'refund handled by billing{Enter}',
    );
    expect(api.closeEscalation).toHaveBeenCalledWith('c-2', 'refund handled by billing');
    await waitFor(() => expect(onChange).toHaveBeenCalled());
  });
});
