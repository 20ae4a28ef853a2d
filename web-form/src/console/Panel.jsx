import { useId } from 'react';

/** A titled region of the console. */
export function Panel({ title, className = '', actions, children }) {
  const id = useId();
  return (
    <section className={`panel ${className}`} aria-labelledby={id}>
      <header className="panel__header">
        <h2 id={id}>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}
