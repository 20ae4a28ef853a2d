import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../shared/api.js';
import { Suggestions } from './Suggestions.jsx';

const TASK = {
  id: 's-1',
  customer_id: 'c-1',
  customer_name: 'Ada Lovelace',
  firing_id: 'f-1',
  trigger: 'stalled_ticket',
  action: 'follow_up_task',
  title: 'Answer TKT-1042 for Ada Lovelace: first response overdue',
  body: 'Reply to Ada on TKT-1042 (high priority).',
  reason: 'first response due 2h ago (priority high)',
  explanation: 'A task is internal; autopilot may create it.',
  confidence: 0.9,
  urgency: 0.8,
  score: 0.72,
  ranking: {
    confidence: 0.9,
    urgency: 0.8,
    urgency_from: 'trigger',
    health_score: 38,
    acceptance: 0.9,
    evidence: 0,
    unranked_score: 0.72,
  },
  facts: {
    ticket_number: 'TKT-1042',
    priority: 'high',
    breakdown: [{ points: -18, reason: 'two tickets unresolved for 9 days' }],
  },
  params: { ticket_number: 'TKT-1042' },
  topics: [],
  preview: [
    {
      target: 'task',
      field: 'title',
      before: null,
      after: 'Answer TKT-1042 for Ada Lovelace: first response overdue',
    },
    { target: 'task', field: 'body', before: null, after: 'Reply to Ada on TKT-1042 (high priority).' },
  ],
  editable: ['title', 'body'],
  proposer: 'local',
  status: 'pending',
  created_at: '2026-01-01T10:00:00Z',
  expires_at: '2026-01-29T10:00:00Z',
};

const TICKET = {
  ...TASK,
  id: 's-2',
  customer_name: 'Grace Hopper',
  action: 'change_ticket',
  title: 'Raise TKT-7 to high',
  score: 0.45,
  ranking: {
    confidence: 0.75,
    urgency: 0.6,
    urgency_from: 'trigger',
    health_score: null,
    acceptance: 0.75,
    evidence: 0,
    unranked_score: 0.45,
  },
  facts: { ticket_number: 'TKT-7', priority: 'medium' },
  params: { ticket_id: 't-7', priority: 'high', before: 'medium' },
  preview: [{ target: 'ticket TKT-7', field: 'priority', before: 'medium', after: 'high' }],
  editable: ['priority'],
};

function setup(overrides = {}) {
  const api = {
    suggestions: vi
      .fn()
      .mockResolvedValueOnce({ suggestions: [TASK, TICKET], ranked_by: 'confidence x urgency' })
      .mockResolvedValue({ suggestions: [] }),
    approveSuggestion: vi.fn(async () => ({ status: 'executed' })),
    editSuggestion: vi.fn(async () => ({ status: 'executed' })),
    dismissSuggestion: vi.fn(async () => ({ status: 'dismissed' })),
    snoozeSuggestion: vi.fn(async () => ({ status: 'pending' })),
    ...overrides,
  };
  const onChange = vi.fn();
  const user = userEvent.setup();
  render(<Suggestions api={api} revision={0} onChange={onChange} />);
  return { api, onChange, user };
}

const card = (name) => screen.findByRole('article', { name: new RegExp(name) });

describe('Suggestions', () => {
  it('ranks the cards and shows reason, confidence, facts, score and the diff', async () => {
    setup();
    const first = await card('Ada Lovelace');
    expect(screen.getByRole('heading', { name: 'What should I do next? (2)' })).toBeInTheDocument();
    const cards = screen.getAllByRole('article');
    expect(cards[0]).toBe(first);
    expect(first).toHaveTextContent('follow up task · stalled ticket · confidence 90%');
    expect(first).toHaveTextContent('first response due 2h ago (priority high)');
    expect(within(first).getByLabelText('Score')).toHaveTextContent(
      'Score 0.72 = acceptance 0.90 (confidence 0.90, 0 past decisions) × urgency 0.80 (from the trigger; health 38/100)',
    );
    expect(within(first).getByLabelText('Facts')).toHaveTextContent('ticket number: TKT-1042');
    expect(within(first).getByLabelText('Health score breakdown')).toHaveTextContent(
      '-18: two tickets unresolved for 9 days',
    );
    const diff = within(cards[1]).getByRole('table', { name: 'Preview of the change' });
    expect(
      within(diff).getByRole('row', { name: /ticket TKT-7 · priority medium high/ }),
    ).toBeInTheDocument();
  });

  it('approves as proposed, says so and refreshes the console', async () => {
    const { api, onChange, user } = setup();
    await user.click(within(await card('Ada Lovelace')).getByRole('button', { name: 'Approve' }));
    expect(api.approveSuggestion).toHaveBeenCalledWith('s-1');
    expect(await screen.findByRole('status')).toHaveTextContent(`“${TASK.title}” was approved and done.`);
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('edits only what changed, then approves; refuses an empty field', async () => {
    const { api, user } = setup();
    const first = await card('Ada Lovelace');
    await user.click(within(first).getByRole('button', { name: 'Edit' }));
    const title = within(first).getByLabelText('Title');
    await user.clear(title);
    await user.click(within(first).getByRole('button', { name: 'Approve edited' }));
    expect(title).toHaveAccessibleDescription('A field must not be empty.');
    expect(api.editSuggestion).not.toHaveBeenCalled();
    await user.type(title, 'Call Ada today');
    await user.click(within(first).getByRole('button', { name: 'Approve edited' }));
    expect(api.editSuggestion).toHaveBeenCalledWith('s-1', { title: 'Call Ada today' });
  });

  it('changes a ticket priority from a list', async () => {
    const { api, user } = setup();
    const second = await card('Grace Hopper');
    await user.click(within(second).getByRole('button', { name: 'Edit' }));
    await user.selectOptions(within(second).getByLabelText('Priority'), 'urgent');
    await user.click(within(second).getByRole('button', { name: 'Approve edited' }));
    expect(api.editSuggestion).toHaveBeenCalledWith('s-2', { priority: 'urgent' });
  });

  it('dismisses only with a reason, and snoozes', async () => {
    const { api, user } = setup();
    const first = await card('Ada Lovelace');
    await user.click(within(first).getByRole('button', { name: 'Dismiss' }));
    await user.click(within(first).getByRole('button', { name: 'Dismiss suggestion' }));
    expect(within(first).getByLabelText('Why dismiss it?')).toHaveAccessibleDescription(
      'Say why you dismiss it.',
    );
    expect(api.dismissSuggestion).not.toHaveBeenCalled();
    await user.type(within(first).getByLabelText('Why dismiss it?'), 'already called');
    await user.keyboard('{Enter}');
    expect(api.dismissSuggestion).toHaveBeenCalledWith('s-1', 'already called');
    const second = await card('Grace Hopper');
    await user.click(within(second).getByRole('button', { name: 'Snooze 1 day' }));
    expect(api.snoozeSuggestion).toHaveBeenCalledWith('s-2', 24);
  });

  it('shows why an approval was refused and keeps the card', async () => {
    const { onChange, user } = setup({
      approveSuggestion: vi.fn(async () =>
        Promise.reject(new ApiError(409, "not sent: the tenant's kill switch is engaged (KILL.tenant)")),
      ),
    });
    const first = await card('Ada Lovelace');
    await user.click(within(first).getByRole('button', { name: 'Approve' }));
    expect(await within(first).findByRole('alert')).toHaveTextContent('kill switch is engaged');
    expect(onChange).not.toHaveBeenCalled();
  });

  it('says when there is nothing to do', async () => {
    setup({ suggestions: vi.fn(async () => ({ suggestions: [] })) });
    expect(await screen.findByText('No suggestions right now.')).toBeInTheDocument();
  });
});
