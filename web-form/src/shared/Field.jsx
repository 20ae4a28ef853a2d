/**
 * A labelled form control with its hint and its error. The error paragraph is always in the
 * page (empty when there is none) so screen readers announce an error when it appears.
 */
export function Field({ id, label, error, hint, optional = false, as: Control = 'input', ...control }) {
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  return (
    <div className={error ? 'field field--invalid' : 'field'}>
      <label htmlFor={id}>
        {label}
        {optional && <span className="field__optional"> (optional)</span>}
      </label>
      {hint && (
        <p id={hintId} className="field__hint">
          {hint}
        </p>
      )}
      <Control
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={hintId ? `${hintId} ${errorId}` : errorId}
        {...control}
      />
      <p id={errorId} className="field__error" aria-live="polite">
        {error}
      </p>
    </div>
  );
}
