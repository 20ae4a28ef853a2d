import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../shared/api.js';
import { AuditExport } from './AuditExport.jsx';
import { AutonomyMode } from './AutonomyMode.jsx';
import { KillSwitch } from './KillSwitch.jsx';
import { AUTONOMY, RELEASED } from './test-data.js';

describe('AutonomyMode', () => {
  it("shows the tenant's mode and lets an admin change it", async () => {
    const api = {
      autonomy: vi.fn(async () => AUTONOMY),
      setMode: vi.fn(async () => ({ ...AUTONOMY, mode: 'approve' })),
    };
    const onChange = vi.fn();
    const user = userEvent.setup();
    render(<AutonomyMode api={api} isAdmin revision={0} onChange={onChange} />);

    expect(await screen.findByRole('status')).toHaveTextContent('Autonomy is on: autopilot');
    expect(screen.getByRole('radio', { name: 'Autopilot' })).toBeChecked();
    expect(screen.getByRole('button', { name: 'Save mode' })).toBeDisabled();
    await user.click(screen.getByRole('radio', { name: 'Approve' }));
    await user.click(screen.getByRole('button', { name: 'Save mode' }));
    expect(api.setMode).toHaveBeenCalledWith('approve');
    await waitFor(() => expect(onChange).toHaveBeenCalledTimes(1));
  });

  it.each([
    [{ kill_switch: true }, "this tenant's kill switch is engaged"],
    [{ global_kill_switch: true }, 'the global kill switch is engaged'],
    [{ ceiling: { autonomy_enabled: true, shadow_mode: true, tenant_allowed: true } }, 'CARE_SHADOW_MODE'],
    [{ ceiling: { autonomy_enabled: true, shadow_mode: false, tenant_allowed: false } }, 'allowlist'],
    [{ mode: 'approve' }, 'in approve mode a person decides every reply'],
  ])('says why autonomy is off (%j)', async (change, why) => {
    const api = { autonomy: vi.fn(async () => ({ ...AUTONOMY, ...change, autonomy_active: false })) };
    render(<AutonomyMode api={api} isAdmin revision={0} onChange={vi.fn()} />);
    expect(await screen.findByRole('status')).toHaveTextContent(why);
  });

  it('is read-only for an operator', async () => {
    const api = { autonomy: vi.fn(async () => AUTONOMY), setMode: vi.fn() };
    render(<AutonomyMode api={api} isAdmin={false} revision={0} onChange={vi.fn()} />);
    expect(await screen.findByRole('radio', { name: 'Approve' })).toBeDisabled();
    expect(screen.getByText('Only an admin can change the mode.')).toBeInTheDocument();
  });

  it("shows the server's refusal", async () => {
    const refusal = new ApiError(422, 'the request is not valid', [
      { field: 'mode', reason: 'needs the opt-in' },
    ]);
    const api = {
      autonomy: vi.fn(async () => AUTONOMY),
      setMode: vi.fn(async () => Promise.reject(refusal)),
    };
    const user = userEvent.setup();
    render(<AutonomyMode api={api} isAdmin revision={0} onChange={vi.fn()} />);
    await user.click(await screen.findByRole('radio', { name: 'Schedules' }));
    await user.click(screen.getByRole('button', { name: 'Save mode' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('the request is not valid');
  });
});

describe('KillSwitch', () => {
  const engaged = {
    engaged: true,
    changed_at: '2026-01-01T10:00:00Z',
    changed_by: 'operator:ops-lead',
    global_engaged: false,
  };

  it('engages only with a reason, which goes to the API', async () => {
    const api = { killSwitch: vi.fn(async () => RELEASED), setKillSwitch: vi.fn(async () => engaged) };
    const onChange = vi.fn();
    const user = userEvent.setup();
    render(<KillSwitch api={api} isAdmin={false} revision={0} onChange={onChange} />);

    expect(await screen.findByRole('status')).toHaveTextContent('Released');
    await user.click(screen.getByRole('button', { name: 'Engage kill switch' }));
    expect(screen.getByLabelText('Reason')).toHaveAccessibleDescription(/Give a reason/);
    expect(api.setKillSwitch).not.toHaveBeenCalled();
    await user.type(screen.getByLabelText('Reason'), 'incident 42{Enter}');
    expect(api.setKillSwitch).toHaveBeenCalledWith(true, 'incident 42');
    await waitFor(() => expect(onChange).toHaveBeenCalledTimes(1));
    expect(screen.getByLabelText('Reason')).toHaveValue('');
  });

  it('shows who engaged it; an operator may not release it, an admin may', async () => {
    const api = { killSwitch: vi.fn(async () => engaged), setKillSwitch: vi.fn(async () => RELEASED) };
    const user = userEvent.setup();
    const { unmount } = render(<KillSwitch api={api} isAdmin={false} revision={0} onChange={vi.fn()} />);
    expect(await screen.findByRole('status')).toHaveTextContent(/Engaged.*by operator:ops-lead/);
    expect(screen.getByRole('button', { name: 'Release kill switch' })).toBeDisabled();
    expect(screen.getByLabelText('Reason')).toHaveAccessibleDescription(/Only an admin/);
    unmount();

    render(<KillSwitch api={api} isAdmin revision={0} onChange={vi.fn()} />);
    await user.type(await screen.findByLabelText('Reason'), 'all clear');
    await user.click(screen.getByRole('button', { name: 'Release kill switch' }));
    expect(api.setKillSwitch).toHaveBeenCalledWith(false, 'all clear');
  });
});

describe('AuditExport', () => {
  it('downloads the chosen format under the tenant’s file name', async () => {
    const blob = new Blob(['{"id": 1}\n']);
    const api = { exportAudit: vi.fn(async () => blob) };
    const saved = [];
    vi.stubGlobal(
      'URL',
      Object.assign(URL, {
        createObjectURL: vi.fn(() => 'blob:audit'),
        revokeObjectURL: vi.fn(),
      }),
    );
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function click() {
      saved.push({ href: this.href, download: this.download });
    });
    const user = userEvent.setup();
    render(<AuditExport api={api} tenantId="techcorp" />);
    await user.selectOptions(screen.getByLabelText('Format'), 'csv');
    await user.click(screen.getByRole('button', { name: 'Download audit' }));

    expect(api.exportAudit).toHaveBeenCalledWith('csv');
    await waitFor(() => expect(saved).toEqual([{ href: 'blob:audit', download: 'care-audit-techcorp.csv' }]));
    expect(URL.createObjectURL).toHaveBeenCalledWith(blob);
  });

  it('says why the export failed', async () => {
    const api = {
      exportAudit: vi.fn(async () => Promise.reject(new ApiError(503, 'the database is unavailable'))),
    };
    const user = userEvent.setup();
    render(<AuditExport api={api} tenantId="techcorp" />);
    await user.click(screen.getByRole('button', { name: 'Download audit' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('the database is unavailable');
  });
});
