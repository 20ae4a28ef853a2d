import { useId } from 'react';

/**
 * A titled region of the console. `loading`: its data has not arrived yet, so it shows only
 * why not, when the last attempt failed.
 */
export function Panel({ title, className = '', loading = false, error = null, children }) {
  const id = useId();
  return (
    <section className={`panel ${className}`} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {loading ? (
        <p className="form-problem" role="alert">
          {error?.message}
        </p>
      ) : (
        children
      )}
    </section>
  );
}
