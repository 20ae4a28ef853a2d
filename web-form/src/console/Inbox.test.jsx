import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../shared/api.js';
import { Inbox } from './Inbox.jsx';

const PROPOSAL = {
  id: 'p-1',
  customer_id: 'c-1',
  action: 'send_reply',
  status: 'pending',
  draft: 'Hello Ada, open the sign-in page and choose "Forgot password".',
  decision: {
    decision: 'REQUIRE_APPROVAL',
    reason: 'MODE_APPROVE',
    policy_clause: 'AAP1.mode.approve',
    explanation: 'Approve mode: a human approves each action.',
    gate: { verdict: 'HOLD', clause: 'KILL.tenant', reason: "the tenant's kill switch is engaged" },
  },
  created_at: '2026-01-01T10:00:00Z',
  customer_name: 'Ada Lovelace',
  channel: 'web_form',
  ticket_id: 'TKT-1000',
  subject: 'Password reset',
  inbound: 'How do I reset my password?',
};

function setup(overrides = {}) {
  const api = {
    proposals: vi
      .fn()
      .mockResolvedValueOnce({ proposals: [PROPOSAL] })
      .mockResolvedValue({ proposals: [] }),
    approve: vi.fn(async () => ({ status: 'approved' })),
    edit: vi.fn(async () => ({ status: 'edited' })),
    reject: vi.fn(async () => ({ status: 'rejected' })),
    ...overrides,
  };
  const onChange = vi.fn();
  const user = userEvent.setup();
  render(<Inbox api={api} revision={0} onChange={onChange} />);
  return { api, onChange, user };
}

const card = () => screen.findByRole('article', { name: /Ada Lovelace/ });

describe('Inbox', () => {
  it('shows what the customer wrote, the draft and why it waits', async () => {
    setup();
    const draft = await card();
    expect(screen.getByRole('heading', { name: 'Needs your input (1)' })).toBeInTheDocument();
    expect(draft).toHaveTextContent('TKT-1000: Password reset');
    expect(draft).toHaveTextContent('send reply via web form');
    expect(draft).toHaveTextContent("the tenant's kill switch is engaged"); // the gate, in words
    expect(draft).not.toHaveTextContent('MODE_APPROVE');
    expect(within(draft).getByRole('blockquote', { name: 'The customer wrote' })).toHaveTextContent(
      PROPOSAL.inbound,
    );
    expect(within(draft).getByLabelText('Draft reply')).toHaveTextContent(PROPOSAL.draft);
  });

  it('approves a draft as it is, says so and refreshes the console', async () => {
    const { api, onChange, user } = setup();
    await user.click(within(await card()).getByRole('button', { name: 'Approve and send' }));
    expect(api.approve).toHaveBeenCalledWith('p-1');
    expect(await screen.findByText('The reply to Ada Lovelace was approved and sent.')).toBeInTheDocument();
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('edits then approves, and refuses an empty reply', async () => {
    const { api, user } = setup();
    const draft = await card();
    await user.click(within(draft).getByRole('button', { name: 'Edit' }));
    const text = within(draft).getByLabelText('Reply to send');
    expect(text).toHaveValue(PROPOSAL.draft);
    await user.clear(text);
    await user.click(within(draft).getByRole('button', { name: 'Approve edited reply' }));
    expect(text).toHaveAccessibleDescription('The reply must not be empty.');
    expect(api.edit).not.toHaveBeenCalled();

    await user.type(text, 'Hello Ada, a colleague will call you today.');
    await user.click(within(draft).getByRole('button', { name: 'Approve edited reply' }));
    expect(api.edit).toHaveBeenCalledWith('p-1', 'Hello Ada, a colleague will call you today.');
    expect(await screen.findByText('The reply to Ada Lovelace was edited and sent.')).toBeInTheDocument();
  });

  it('rejects only with a reason, and can be cancelled', async () => {
    const { api, user } = setup();
    const draft = await card();
    await user.click(within(draft).getByRole('button', { name: 'Reject' }));
    await user.click(within(draft).getByRole('button', { name: 'Cancel' }));
    expect(within(draft).queryByLabelText('Why reject it?')).not.toBeInTheDocument();

    await user.click(within(draft).getByRole('button', { name: 'Reject' }));
    await user.click(within(draft).getByRole('button', { name: 'Reject draft' }));
    expect(within(draft).getByLabelText('Why reject it?')).toHaveAccessibleDescription(
      'Say why you reject it.',
    );
    expect(api.reject).not.toHaveBeenCalled();
    await user.type(within(draft).getByLabelText('Why reject it?'), 'wrong product');
    await user.keyboard('{Enter}');
    expect(api.reject).toHaveBeenCalledWith('p-1', 'wrong product');
    expect(await screen.findByText('The reply to Ada Lovelace was rejected.')).toBeInTheDocument();
  });

  it('shows why a decision failed and keeps the draft', async () => {
    const { onChange, user } = setup({
      approve: vi.fn(async () => Promise.reject(new ApiError(409, 'the proposal is already approved'))),
    });
    const draft = await card();
    await user.click(within(draft).getByRole('button', { name: 'Approve and send' }));
    expect(await within(draft).findByRole('alert')).toHaveTextContent('the proposal is already approved');
    expect(onChange).not.toHaveBeenCalled();
  });

  it('says when nothing is waiting', async () => {
    setup({ proposals: vi.fn(async () => ({ proposals: [] })) });
    expect(await screen.findByText('Nothing is waiting for you.')).toBeInTheDocument();
    await waitFor(() =>
      expect(screen.getByRole('heading', { name: 'Needs your input (0)' })).toBeInTheDocument(),
    );
  });
});
