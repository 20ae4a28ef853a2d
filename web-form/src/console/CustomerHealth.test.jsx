import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { CustomerHealth, historyRows } from './CustomerHealth.jsx';
import { Customers } from './Customers.jsx';

const BREAKDOWN = [
  {
    factor: 'recency',
    points: 20,
    max_points: 20,
    sentence: 'last message 2 days ago',
    label: '+20: last message 2 days ago',
  },
  {
    factor: 'unresolved_tickets',
    points: 7,
    max_points: 15,
    sentence: 'two tickets unresolved for 9 days',
    label: '−8: two tickets unresolved for 9 days',
  },
];
const HEALTH = {
  customer_id: 'c-1',
  score: 62,
  band: 'average',
  trend: -9,
  breakdown: BREAKDOWN,
  engagement: 0.41,
  churn_risk: 0.33,
  churn_band: 'medium',
  computed_at: '2031-05-04T10:00:00Z',
  stored: true,
  heat: 'hot',
  next_look_at: '2031-05-04T10:15:00Z',
  bands: { poor_below: 40, good_from: 70 },
  history: [
    { computed_at: '2031-05-01T10:00:00Z', score: 81, band: 'good', churn_risk: 0.12, engagement: 0.6 },
    { computed_at: '2031-05-04T10:00:00Z', score: 62, band: 'average', churn_risk: 0.33, engagement: 0.41 },
  ],
};

describe('CustomerHealth', () => {
  it('shows the score, band, trend, probabilities and every factor of the breakdown', async () => {
    const api = { customerHealth: vi.fn(async () => HEALTH) };
    render(<CustomerHealth api={api} customerId="c-1" name="Ada Lovelace" />);
    expect(await screen.findByText('62 / 100 · average')).toBeInTheDocument();
    expect(api.customerHealth).toHaveBeenCalledWith('c-1');
    expect(screen.getByText('(down 9)')).toBeInTheDocument();
    expect(screen.getByText(/Churn risk 33% \(medium\) · engagement 41%/)).toBeInTheDocument();
    const factors = within(screen.getByRole('list', { name: 'Score breakdown' })).getAllByRole('listitem');
    expect(factors.map((item) => item.textContent)).toEqual([
      'recency +20: last message 2 days ago',
      'unresolved tickets −8: two tickets unresolved for 9 days',
    ]);
    expect(factors[1]).toHaveClass('is-lost');
    expect(factors[0]).not.toHaveClass('is-lost');
    expect(screen.getByRole('figure', { name: 'Health score over time' })).toBeInTheDocument();
  });

  it('charts one point per stored score, oldest first', () => {
    const rows = historyRows(HEALTH.history);
    expect(rows.map((row) => row.score)).toEqual([81, 62]);
  });

  it('says when no sweep has scored the customer yet, and that there is no history', async () => {
    const api = {
      customerHealth: vi.fn(async () => ({ ...HEALTH, stored: false, heat: null, history: [] })),
    };
    render(<CustomerHealth api={api} customerId="c-1" name="Ada Lovelace" />);
    expect(await screen.findByText(/not scored by a sweep yet: computed now/)).toBeInTheDocument();
    expect(screen.getByText('No score history yet.')).toBeInTheDocument();
    expect(screen.queryByRole('figure')).not.toBeInTheDocument();
  });

  it('shows why it could not load', async () => {
    const api = { customerHealth: vi.fn(async () => Promise.reject(new Error('no such customer'))) };
    render(<CustomerHealth api={api} customerId="c-9" name="Nobody" />);
    expect(await screen.findByText('no such customer')).toHaveAttribute('role', 'alert');
  });

  it('opens from the customer list', async () => {
    const customer = {
      customer_id: 'c-1',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: null,
      care_state: 'engaged',
      hands_off: false,
      escalation_status: null,
      mode_override: null,
      effective_mode: 'assist',
      last_contact_at: '2031-05-04T09:00:00Z',
    };
    const api = {
      customers: vi.fn(async () => ({ customers: [customer] })),
      customerHealth: vi.fn(async () => HEALTH),
    };
    const user = userEvent.setup();
    render(<Customers api={api} revision={0} onChange={() => {}} />);
    await user.click(await screen.findByRole('button', { name: 'Health of Ada Lovelace' }));
    expect(await screen.findByRole('heading', { name: 'Health of Ada Lovelace' })).toBeInTheDocument();
    expect(await screen.findByText('62 / 100 · average')).toBeInTheDocument();
    expect(api.customerHealth).toHaveBeenCalledWith('c-1');
  });
});
