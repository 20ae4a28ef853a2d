import { useId, useState } from 'react';
import { Field } from '../shared/Field.jsx';
import { when, words } from '../shared/format.js';
import { useAction } from '../shared/useAction.js';
import { ConfirmButtons } from './ConfirmButtons.jsx';

/** Why the executor held it, in words: the gate that held it, else the policy's explanation. */
function heldBecause(decision) {
  return decision?.gate?.reason ?? decision?.explanation ?? decision?.reason;
}

/**
 * One held draft: what the customer wrote, what the agent would send and why it waits; the
 * operator approves it as it is, edits then approves it, or rejects it with a reason.
 */
export function ProposalCard({ proposal, api, onDecided }) {
  const uid = useId();
  const [mode, setMode] = useState('view'); // view | edit | reject
  const [text, setText] = useState(proposal.draft);
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(null);
  const decide = useAction(async (kind, call) => {
    await call();
    onDecided(kind, proposal);
  });

  function submit(event) {
    event.preventDefault();
    const value = (mode === 'edit' ? text : reason).trim();
    if (!value) {
      setMissing(mode === 'edit' ? 'The reply must not be empty.' : 'Say why you reject it.');
      return;
    }
    setMissing(null);
    if (mode === 'edit') decide.perform('edited', () => api.edit(proposal.id, value));
    else decide.perform('rejected', () => api.reject(proposal.id, value));
  }

  const who = proposal.customer_name ?? 'A customer';
  const about = [proposal.ticket_id, proposal.subject].filter(Boolean).join(': ');
  const cancel = () => {
    setMode('view');
    setMissing(null);
  };

  return (
    <li className="proposal">
      <article aria-labelledby={`${uid}title`} aria-busy={decide.busy}>
        <h3 id={`${uid}title`} className="proposal__title">
          {who}
          {about && <span className="proposal__about"> · {about}</span>}
        </h3>
        <p className="proposal__meta">
          {words(proposal.action)}
          {proposal.channel && ` via ${words(proposal.channel)}`} · held {when(proposal.created_at)}
          {heldBecause(proposal.decision) && ` · ${heldBecause(proposal.decision)}`}
        </p>
        {proposal.inbound && (
          <blockquote className="proposal__inbound" aria-label="The customer wrote">
            {proposal.inbound}
          </blockquote>
        )}
        <form onSubmit={submit} noValidate>
          <fieldset disabled={decide.busy}>
            <legend className="visually-hidden">Decide on the draft for {who}</legend>
            {mode === 'edit' ? (
              <Field
                id={`${uid}text`}
                label="Reply to send"
                as="textarea"
                rows={6}
                value={text}
                onChange={(event) => setText(event.target.value)}
                error={missing}
              />
            ) : (
              <div className="proposal__draft" aria-label="Draft reply">
                {proposal.draft}
              </div>
            )}
            {mode === 'reject' && (
              <Field
                id={`${uid}reason`}
                label="Why reject it?"
                value={reason}
                onChange={(event) => setReason(event.target.value)}
                error={missing}
              />
            )}
            <div className="proposal__actions">
              {mode === 'view' ? (
                <>
                  <button
                    type="button"
                    className="button button--primary"
                    onClick={() => decide.perform('approved', () => api.approve(proposal.id))}
                  >
                    Approve and send
                  </button>
                  <button type="button" className="button" onClick={() => setMode('edit')}>
                    Edit
                  </button>
                  <button type="button" className="button button--danger" onClick={() => setMode('reject')}>
                    Reject
                  </button>
                </>
              ) : (
                <ConfirmButtons
                  approve={mode === 'edit'}
                  label={mode === 'edit' ? 'Approve edited reply' : 'Reject draft'}
                  onCancel={cancel}
                />
              )}
            </div>
            <p className="form-problem" role="alert">
              {decide.error?.message}
            </p>
          </fieldset>
        </form>
      </article>
    </li>
  );
}
