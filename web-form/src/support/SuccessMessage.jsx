import { useEffect, useRef } from 'react';

/** The receipt of a submitted request: its ticket id and what happens next. */
export function SuccessMessage({ receipt, statusHref, onAnother }) {
  const heading = useRef(null);
  useEffect(() => heading.current.focus(), []);

  return (
    <section className="success" aria-labelledby="fte-success-title">
      <h2 id="fte-success-title" ref={heading} tabIndex={-1}>
        Request received
      </h2>
      <p>{receipt.message}</p>
      <p className="success__ticket">
        Your ticket number is <strong>{receipt.ticket_id}</strong>. Keep it, with the email address you gave,
        to check on your request; or keep the link to its status page, which opens it directly.
      </p>
      <h3>What happens next</h3>
      <ol>
        <li>Our assistant reads your message and usually answers within a minute.</li>
        <li>The answer appears on your ticket's status page, shown below and at the link.</li>
        <li>If your request needs a person, a specialist takes it over and replies there too.</li>
      </ol>
      <p className="success__actions">
        <a className="button" href={statusHref}>
          Open the status page of {receipt.ticket_id}
        </a>
        <button type="button" className="button button--quiet" onClick={onAnother}>
          Send another request
        </button>
      </p>
    </section>
  );
}
