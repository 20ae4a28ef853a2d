import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { Timeline } from './Timeline.jsx';

const entry = (id, actor, action, reason) => ({
  id,
  created_at: '2026-01-01T10:00:00Z',
  event_type: 'executed_action',
  actor,
  reason,
  payload: { action, channel: action === 'send_reply' ? 'web_form' : undefined },
});

describe('Timeline', () => {
  it('shows what was done, newest first, by the autopilot or by whom', async () => {
    const api = {
      activity: vi.fn(async () => ({
        entries: [
          entry(3, 'operator:ops-lead', 'engage_tenant_kill_switch', 'incident 42'),
          entry(2, 'fte-agent', 'send_reply', 'every gate allowed it'),
        ],
        next_before_id: null,
      })),
    };
    render(<Timeline api={api} revision={0} />);
    const items = await screen.findAllByRole('listitem');
    expect(items.map((item) => item.textContent)).toEqual([
      expect.stringMatching(/^ops-lead engage tenant kill switch.* · incident 42$/),
      expect.stringMatching(/^Autopilot send reply via web form.* · every gate allowed it$/),
    ]);
    expect(api.activity).toHaveBeenCalledWith();
    expect(screen.queryByRole('button', { name: 'Show older' })).not.toBeInTheDocument();
  });

  it('loads older entries below the newest', async () => {
    const api = {
      activity: vi
        .fn()
        .mockResolvedValueOnce({
          entries: [entry(60, 'fte-agent', 'send_reply', 'allowed')],
          next_before_id: 60,
        })
        .mockResolvedValueOnce({
          entries: [entry(12, 'operator:sam', 'set_hands_off', 'by sam')],
          next_before_id: null,
        }),
    };
    const user = userEvent.setup();
    render(<Timeline api={api} revision={0} />);
    await user.click(await screen.findByRole('button', { name: 'Show older' }));

    expect(api.activity).toHaveBeenLastCalledWith(60);
    const list = screen.getByRole('list', { name: 'Actions, newest first' });
    expect(await within(list).findByText('sam')).toBeInTheDocument();
    expect(
      within(list)
        .getAllByRole('listitem')
        .map((item) => item.querySelector('strong').textContent),
    ).toEqual(['Autopilot', 'sam']);
    expect(screen.queryByRole('button', { name: 'Show older' })).not.toBeInTheDocument();
  });

  it('says when nothing has been done', async () => {
    render(
      <Timeline
        api={{ activity: vi.fn(async () => ({ entries: [], next_before_id: null })) }}
        revision={0}
      />,
    );
    expect(await screen.findByText('Nothing has been done yet.')).toBeInTheDocument();
  });
});
