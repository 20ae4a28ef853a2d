import { useId, useState } from 'react';
import { Field } from '../shared/Field.jsx';
import { when, words } from '../shared/format.js';
import { useAction } from '../shared/useAction.js';

/** One customer: their care state and mode, the hands-off switch, when open their escalation,
 * and the button that shows their health. */
export function CustomerRow({ customer, api, onChange, onShowHealth = () => {} }) {
  const uid = useId();
  const [closing, setClosing] = useState(false);
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(null);
  const handsOff = useAction(async () => {
    await api.setHandsOff(customer.customer_id, !customer.hands_off);
    onChange();
  });
  const close = useAction(async (why) => {
    await api.closeEscalation(customer.customer_id, why);
    setClosing(false);
    onChange();
  });
  const name = customer.name ?? customer.email ?? customer.phone ?? 'Unnamed customer';

  function submitClose(event) {
    event.preventDefault();
    const why = reason.trim();
    setMissing(why ? null : 'Say how it was resolved.');
    if (why) close.perform(why);
  }

  return (
    <tr aria-busy={handsOff.busy || close.busy}>
      <th scope="row">
        {name}
        <span className="customers__contact">
          {[customer.email, customer.phone].filter(Boolean).join(' · ')}
        </span>
        <button
          type="button"
          className="button button--quiet customers__health"
          aria-label={`Health of ${name}`}
          onClick={() => onShowHealth({ id: customer.customer_id, name })}
        >
          Health
        </button>
      </th>
      <td>{words(customer.care_state)}</td>
      <td>
        {customer.effective_mode}
        {customer.mode_override && ' (own)'}
      </td>
      <td>{customer.last_contact_at ? when(customer.last_contact_at) : '—'}</td>
      <td>
        <button
          type="button"
          role="switch"
          className="switch"
          aria-checked={customer.hands_off}
          aria-label={`Hands-off for ${name}`}
          disabled={handsOff.busy}
          onClick={() => handsOff.perform()}
        >
          <span aria-hidden="true">{customer.hands_off ? 'On' : 'Off'}</span>
        </button>
      </td>
      <td>
        {customer.escalation_status === 'open' ? (
          closing ? (
            <form onSubmit={submitClose} noValidate className="customers__close">
              <Field
                id={`${uid}reason`}
                label={`Resolution for ${name}`}
                value={reason}
                error={missing}
                onChange={(event) => setReason(event.target.value)}
              />
              <button type="submit" className="button" disabled={close.busy}>
                Close escalation
              </button>
              <button type="button" className="button button--quiet" onClick={() => setClosing(false)}>
                Cancel
              </button>
            </form>
          ) : (
            <button type="button" className="button" onClick={() => setClosing(true)}>
              Escalated: close…
            </button>
          )
        ) : (
          words(customer.escalation_status ?? 'none')
        )}
        <p className="form-problem" role="alert">
          {(handsOff.error ?? close.error)?.message}
        </p>
      </td>
    </tr>
  );
}
