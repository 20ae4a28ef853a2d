import { useId, useState } from 'react';
import { Field } from '../shared/Field.jsx';
import { when } from '../shared/format.js';
import { useAction } from '../shared/useAction.js';
import { usePolled } from '../shared/usePolled.js';
import { Panel } from './Panel.jsx';

/** The tenant's kill switch: anyone may engage it (with a reason); only an admin may release it. */
export function KillSwitch({ api, isAdmin, revision, onChange }) {
  const uid = useId();
  const { data: state, error } = usePolled(() => api.killSwitch(), revision);
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(null);
  const flip = useAction(async (engaged, why) => {
    await api.setKillSwitch(engaged, why);
    setReason('');
    onChange();
  });

  if (!state) return <Panel title="Kill switch" loading error={error} />;
  const engage = !state.engaged;
  const mayAct = engage || isAdmin;

  function submit(event) {
    event.preventDefault();
    const why = reason.trim();
    setMissing(why ? null : 'Give a reason; it goes into the audit trail.');
    if (why) flip.perform(engage, why);
  }

  return (
    <Panel title="Kill switch" className={state.engaged ? 'kill-switch--engaged' : ''}>
      <p className={state.engaged ? 'badge badge--off' : 'badge badge--on'} role="status">
        {state.engaged ? 'Engaged: every reply waits for a person' : 'Released: autonomy may act'}
        {state.changed_at &&
          ` (since ${when(state.changed_at)}${state.changed_by ? `, by ${state.changed_by}` : ''})`}
      </p>
      {state.global_engaged && <p className="notice">The global kill switch is engaged for every tenant.</p>}
      <form onSubmit={submit} noValidate>
        <fieldset disabled={!mayAct || flip.busy}>
          <legend className="visually-hidden">{engage ? 'Engage' : 'Release'} the kill switch</legend>
          <Field
            id={`${uid}reason`}
            label="Reason"
            value={reason}
            error={missing}
            onChange={(event) => setReason(event.target.value)}
            hint={mayAct ? undefined : 'Only an admin can release the kill switch.'}
          />
          <button type="submit" className={engage ? 'button button--danger' : 'button'}>
            {engage ? 'Engage kill switch' : 'Release kill switch'}
          </button>
        </fieldset>
        <p className="form-problem" role="alert">
          {(flip.error ?? error)?.message}
        </p>
      </form>
    </Panel>
  );
}
