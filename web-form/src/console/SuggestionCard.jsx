import { useId, useState } from 'react';
import { Field } from '../shared/Field.jsx';
import { when, words } from '../shared/format.js';
import { useAction } from '../shared/useAction.js';
import { ConfirmButtons } from './ConfirmButtons.jsx';

const percent = (value) => `${Math.round(value * 100)}%`;
const shown = (value) => (value === null || value === undefined || value === '' ? '—' : String(value));
const SNOOZES = [
  { hours: 4, label: '4 hours' },
  { hours: 24, label: '1 day' },
  { hours: 24 * 7, label: '1 week' },
];
const FIELD_LABELS = { title: 'Title', body: 'Text', priority: 'Priority' };

/** The facts the trigger saw, as a list; a health breakdown ("−18: …") is shown on its own. */
function Facts({ facts }) {
  const entries = Object.entries(facts ?? {}).filter(
    ([name, value]) => name !== 'breakdown' && typeof value !== 'object',
  );
  const breakdown = facts?.breakdown ?? facts?.health?.breakdown;
  return (
    <>
      <dl className="suggestion__facts" aria-label="Facts">
        {entries.map(([name, value]) => (
          <div key={name}>
            <dt>{`${words(name)}: `}</dt>
            <dd>{shown(value)}</dd>
          </div>
        ))}
      </dl>
      {Array.isArray(breakdown) && breakdown.length > 0 && (
        <ul className="suggestion__breakdown" aria-label="Health score breakdown">
          {breakdown.map((part, index) => (
            <li key={index}>
              {typeof part === 'string'
                ? part
                : `${part.points > 0 ? '+' : ''}${part.points}: ${part.reason ?? part.factor}`}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** What would change: one row per field, before and after. */
function Diff({ preview }) {
  return (
    <table className="suggestion__diff" aria-label="Preview of the change">
      <thead>
        <tr>
          <th scope="col">Change</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {preview.map((row, index) => (
          <tr key={index}>
            <th scope="row">
              {row.target} · {row.field}
            </th>
            <td className="suggestion__before">{shown(row.before)}</td>
            <td className="suggestion__after">{shown(row.after)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * One suggestion: why (reason, confidence, facts, the score behind its rank: the acceptance
 * its trigger and action have had with the tenant's people), what would change (the diff),
 * and the person's decision: approve, edit then approve, dismiss with a reason, or snooze.
 */
export function SuggestionCard({ suggestion, api, onDecided }) {
  const uid = useId();
  const [mode, setMode] = useState('view'); // view | edit | dismiss
  const [edits, setEdits] = useState(() =>
    Object.fromEntries(
      suggestion.editable.map((name) => [name, suggestion[name] ?? suggestion.params?.[name] ?? '']),
    ),
  );
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(null);
  const decide = useAction(async (kind, call) => {
    await call();
    onDecided(kind, suggestion);
  });
  const who = suggestion.customer_name ?? 'A customer';
  const { ranking } = suggestion;

  function submit(event) {
    event.preventDefault();
    if (mode === 'dismiss') {
      if (!reason.trim()) return setMissing('Say why you dismiss it.');
      setMissing(null);
      return decide.perform('dismissed', () => api.dismissSuggestion(suggestion.id, reason.trim()));
    }
    const changed = Object.fromEntries(
      Object.entries(edits).filter(
        ([name, value]) => value.trim() && value !== (suggestion[name] ?? suggestion.params?.[name]),
      ),
    );
    if (Object.values(edits).some((value) => !value.trim())) return setMissing('A field must not be empty.');
    setMissing(null);
    return Object.keys(changed).length
      ? decide.perform('edited', () => api.editSuggestion(suggestion.id, changed))
      : decide.perform('approved', () => api.approveSuggestion(suggestion.id));
  }

  const cancel = () => {
    setMode('view');
    setMissing(null);
  };

  return (
    <li className="suggestion proposal">
      <article aria-labelledby={`${uid}heading`} aria-busy={decide.busy}>
        <h3 id={`${uid}heading`} className="proposal__title">
          {suggestion.title}
          <span className="proposal__about"> · {who}</span>
        </h3>
        <p className="proposal__meta">
          {words(suggestion.action)} · {words(suggestion.trigger)} · confidence{' '}
          {percent(suggestion.confidence)} · proposed {when(suggestion.created_at)} by {suggestion.proposer}
        </p>
        <p className="suggestion__reason">{suggestion.reason}</p>
        <p className="suggestion__score" aria-label="Score">
          Score {suggestion.score.toFixed(2)} = acceptance {ranking.acceptance.toFixed(2)} (confidence{' '}
          {ranking.confidence.toFixed(2)}, {ranking.evidence} past{' '}
          {ranking.evidence === 1 ? 'decision' : 'decisions'}) × urgency {ranking.urgency.toFixed(2)} (from
          the {ranking.urgency_from === 'health' ? 'health score' : 'trigger'}
          {ranking.health_score !== null ? `; health ${Math.round(ranking.health_score)}/100` : ''})
        </p>
        <Facts facts={suggestion.facts} />
        <Diff preview={suggestion.preview} />
        <p className="suggestion__explanation">{suggestion.explanation}</p>
        <form onSubmit={submit} noValidate>
          <fieldset disabled={decide.busy}>
            <legend className="visually-hidden">Decide on “{suggestion.title}”</legend>
            {mode === 'edit' &&
              suggestion.editable.map((name) =>
                name === 'priority' ? (
                  <Field
                    key={name}
                    id={`${uid}${name}`}
                    label={FIELD_LABELS[name]}
                    as="select"
                    value={edits[name]}
                    onChange={(event) => setEdits({ ...edits, [name]: event.target.value })}
                  >
                    {['low', 'medium', 'high', 'urgent'].map((p) => (
                      <option key={p}>{p}</option>
                    ))}
                  </Field>
                ) : (
                  <Field
                    key={name}
                    id={`${uid}${name}`}
                    label={FIELD_LABELS[name]}
                    as={name === 'body' ? 'textarea' : 'input'}
                    rows={name === 'body' ? 5 : undefined}
                    value={edits[name]}
                    onChange={(event) => setEdits({ ...edits, [name]: event.target.value })}
                    error={missing}
                  />
                ),
              )}
            {mode === 'dismiss' && (
              <Field
                id={`${uid}reason`}
                label="Why dismiss it?"
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
                    onClick={() => decide.perform('approved', () => api.approveSuggestion(suggestion.id))}
                  >
                    Approve
                  </button>
                  {suggestion.editable.length > 0 && (
                    <button type="button" className="button" onClick={() => setMode('edit')}>
                      Edit
                    </button>
                  )}
                  <button type="button" className="button button--danger" onClick={() => setMode('dismiss')}>
                    Dismiss
                  </button>
                  {SNOOZES.map(({ hours, label }) => (
                    <button
                      key={hours}
                      type="button"
                      className="button button--quiet"
                      onClick={() =>
                        decide.perform('snoozed', () => api.snoozeSuggestion(suggestion.id, hours))
                      }
                    >
                      Snooze {label}
                    </button>
                  ))}
                </>
              ) : (
                <ConfirmButtons
                  approve={mode === 'edit'}
                  label={mode === 'edit' ? 'Approve edited' : 'Dismiss suggestion'}
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
