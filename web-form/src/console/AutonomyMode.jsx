import { useId, useState } from 'react';
import { useAction } from '../shared/useAction.js';
import { usePolled } from '../shared/usePolled.js';
import { Panel } from './Panel.jsx';

export const MODES = [
  ['assist', 'Assist', 'The agent drafts; a person decides and sends every reply.'],
  ['approve', 'Approve', 'Every reply waits in "Needs your input" until someone approves it.'],
  ['autopilot', 'Autopilot', 'Low-risk replies the policy allows go out on their own.'],
  ['schedules', 'Schedules', 'Autopilot plus scheduled runs (needs the schedules opt-in).'],
];

/** Why nothing goes out on its own, or null when autopilot may act. */
function halted(view) {
  if (view.global_kill_switch) return 'the global kill switch is engaged';
  if (view.kill_switch) return "this tenant's kill switch is engaged";
  if (!view.ceiling.autonomy_enabled || view.ceiling.shadow_mode) {
    return 'the deployment keeps autonomy off (CARE_AUTONOMY_ENABLED, CARE_SHADOW_MODE)';
  }
  if (!view.ceiling.tenant_allowed) return 'this tenant is not on the autonomy allowlist';
  if (!view.autonomy_active) return `in ${view.mode} mode a person decides every reply`;
  return null;
}

/** The tenant's autonomy mode: shown to everyone, changed by admins. */
export function AutonomyMode({ api, isAdmin, revision, onChange }) {
  const uid = useId();
  const { data: view, error } = usePolled(() => api.autonomy(), revision);
  const [chosen, setChosen] = useState(null);
  const save = useAction(async (mode) => {
    await api.setMode(mode);
    setChosen(null);
    onChange();
  });

  if (!view) return <Panel title="Autonomy mode" loading error={error} />;
  const selected = chosen ?? view.mode;
  const why = halted(view);
  return (
    <Panel title="Autonomy mode" className="autonomy">
      <p className={why ? 'badge badge--off' : 'badge badge--on'} role="status">
        {why ? `Autonomy is off: ${why}` : `Autonomy is on: ${view.mode}`}
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          save.perform(selected);
        }}
      >
        <fieldset disabled={!isAdmin || save.busy} aria-describedby={`${uid}who`}>
          <legend>Mode for this tenant</legend>
          {MODES.map(([mode, label, description]) => (
            <div key={mode} className="choice">
              <input
                type="radio"
                id={`${uid}${mode}`}
                name={`${uid}mode`}
                value={mode}
                checked={selected === mode}
                onChange={() => setChosen(mode)}
                aria-describedby={`${uid}${mode}-about`}
              />
              <label htmlFor={`${uid}${mode}`} className="choice__label">
                {label}
              </label>
              <span id={`${uid}${mode}-about`} className="choice__description">
                {description}
              </span>
            </div>
          ))}
          <button type="submit" className="button button--primary" disabled={selected === view.mode}>
            {save.busy ? 'Saving…' : 'Save mode'}
          </button>
        </fieldset>
        <p id={`${uid}who`} className="field__hint">
          {isAdmin
            ? `Last changed ${view.updated_by ? `by ${view.updated_by}` : 'by the system'}.`
            : 'Only an admin can change the mode.'}
        </p>
        <p className="form-problem" role="alert">
          {(save.error ?? error)?.message}
        </p>
      </form>
    </Panel>
  );
}
