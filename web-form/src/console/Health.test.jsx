import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { chartRows, Health } from './Health.jsx';

const CHANNEL = {
  conversations: 3,
  messages_in: 4,
  messages_out: 4,
  avg_sentiment: 0.62,
  escalations: 1,
  escalation_rate: 0.25,
  answered: 4,
  automated: 3,
  automation_rate: 0.75,
  first_response_p50_s: 0.42,
  first_response_p95_s: 1.9,
  delivered_p95_s: 2.1,
};
const EMPTY = {
  ...CHANNEL,
  conversations: 0,
  messages_in: 0,
  messages_out: 0,
  avg_sentiment: null,
  escalations: 0,
  escalation_rate: null,
  answered: 0,
  automated: 0,
  automation_rate: null,
  first_response_p50_s: null,
  first_response_p95_s: null,
};
const POINTS = [
  {
    at: '2031-05-04T10:05:00Z',
    first_response_p95_s: { web_form: 1.5 },
    messages_in: 2,
    escalation_rate: 0.5,
    automation_rate: 0.5,
    dead_letters: 0,
    inbound_waiting: 1,
    oldest_draft_age_s: 600,
  },
  {
    at: '2031-05-04T10:10:00Z',
    first_response_p95_s: {},
    messages_in: 0,
    escalation_rate: null,
    automation_rate: null,
    dead_letters: 2,
    inbound_waiting: 0,
    oldest_draft_age_s: null,
  },
];

function setup(alerts) {
  const api = {
    alerts: vi.fn(async () => ({ alerts })),
    channelMetrics: vi.fn(async () => ({
      period: '1h',
      channels: { email: EMPTY, whatsapp: EMPTY, web_form: CHANNEL },
      totals: CHANNEL,
    })),
    series: vi.fn(async () => ({ step_s: 300, points: POINTS })),
  };
  render(<Health api={api} />);
  return api;
}

describe('Health', () => {
  it('shows the open alerts, the last hour per channel and five charts', async () => {
    const api = setup([
      {
        id: 7,
        kind: 'escalation_rate',
        channel: 'web_form',
        severity: 'critical',
        summary: 'web_form: 40% of 5 messages escalated in the last 1 h (threshold 25%)',
        opened_at: '2031-05-04T10:00:00Z',
      },
    ]);
    const alerts = await screen.findByRole('region', { name: 'Open alerts' });
    expect(await within(alerts).findByRole('listitem')).toHaveTextContent(
      /critical web_form: 40% of 5 messages escalated/,
    );
    const web = await screen.findByRole('row', { name: /^Web form/ });
    expect(web).toHaveTextContent('25%');
    expect(web).toHaveTextContent('75%');
    expect(web).toHaveTextContent('0.4 s / 1.9 s');
    expect(screen.getByRole('row', { name: /^Email/ })).toHaveTextContent('— / —');
    expect(screen.getByRole('row', { name: /^All channels/ })).toBeInTheDocument();
    const charts = await screen.findAllByRole('figure');
    expect(charts.map((chart) => chart.getAttribute('aria-label'))).toEqual([
      'First response p95 per channel (s)',
      'Escalation and automation rate (%)',
      'Lag: inbound messages waiting for the worker',
      'Dead letters per 1 min',
      'Inbox: age of the oldest draft (min)',
    ]);
    expect(api.series).toHaveBeenCalledWith(1, 60);
    expect(api.channelMetrics).toHaveBeenCalledWith('1h');
  });

  it('charts another range when asked', async () => {
    const api = setup([]);
    await screen.findAllByRole('figure');
    await userEvent.setup().selectOptions(screen.getByLabelText('Range'), '24h');
    expect(await screen.findByRole('figure', { name: 'Dead letters per 15 min' })).toBeInTheDocument();
    expect(api.series).toHaveBeenLastCalledWith(24, 900);
  });

  it('says so when every threshold is met', async () => {
    setup([]);
    expect(await screen.findByText('No open alerts: every threshold is met.')).toBeInTheDocument();
  });

  it('turns the series into chart rows: a column per channel, rates in percent', () => {
    const [first, second] = chartRows(POINTS);
    expect(first).toMatchObject({ web_form: 1.5, email: null, escalation: 50, automation: 50 });
    expect(first).toMatchObject({ waiting: 1, dead: 0, draftAge: 10 });
    expect(second).toMatchObject({ web_form: null, escalation: null, dead: 2, draftAge: null });
  });
});
