// Vitest: admin API answers shared by the console's tests.

/** GET /api/v1/admin/autonomy of a tenant on autopilot, nothing holding it back. */
export const AUTONOMY = {
  mode: 'autopilot',
  kill_switch: false,
  global_kill_switch: false,
  ceiling: { autonomy_enabled: true, shadow_mode: false, tenant_allowed: true },
  autonomy_active: true,
  updated_by: 'operator:ops-lead',
};

/** GET /api/v1/admin/kill-switch, released and never touched. */
export const RELEASED = { engaged: false, changed_at: null, changed_by: null, global_engaged: false };
