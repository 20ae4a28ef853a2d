import { useId, useState } from 'react';
import { Field } from '../shared/Field.jsx';
import { usePolling } from '../shared/usePolling.js';
import { Conversation } from './Conversation.jsx';

const TICKET = /^TKT-\d{1,12}$/;
const POLL_MS = 2000;

const STATUS = {
  open: 'Open',
  in_progress: 'In progress',
  waiting_customer: 'Answered',
  escalated: 'With a specialist',
  resolved: 'Resolved',
  closed: 'Closed',
};

/** True when the ticket needs nothing more from us: the last word is ours, or it is closed. */
function settled(ticket) {
  const last = ticket.messages.at(-1);
  return last?.direction === 'outbound' || ['resolved', 'closed'].includes(ticket.status);
}

/**
 * Look a ticket up by its id and show its status and conversation, polling until the agent's
 * reply arrives (or the ticket is closed). Checking again polls again.
 */
export function StatusChecker({ api, initialTicketId = '', pollMs = POLL_MS }) {
  const uid = useId();
  const [typed, setTyped] = useState(initialTicketId);
  const [inputError, setInputError] = useState(null);
  const [check, setCheck] = useState(initialTicketId ? { id: initialTicketId, n: 0 } : null);
  const [ticket, setTicket] = useState(null);
  const [problem, setProblem] = useState(null);

  usePolling(
    async (signal) => {
      try {
        const view = await api.ticket(check.id, signal);
        setTicket(view);
        setProblem(null);
        return settled(view);
      } catch (error) {
        if (signal.aborted) return true;
        if (error.status === 404) {
          setTicket(null);
          setProblem(`There is no ticket ${check.id}. Check the number and try again.`);
          return true;
        }
        setProblem(error.message); // a passing outage: keep trying
        return false;
      }
    },
    pollMs,
    check && `${check.id}#${check.n}`,
  );

  function submit(event) {
    event.preventDefault();
    const id = typed.trim().toUpperCase();
    if (!TICKET.test(id)) {
      setInputError('Enter a ticket number like TKT-1000.');
      return;
    }
    setInputError(null);
    setTicket((current) => (current?.ticket_id === id ? current : null));
    setCheck((current) => ({ id, n: (current?.n ?? 0) + 1 }));
  }

  const waiting = ticket && !settled(ticket);
  return (
    <section className="status-checker" aria-labelledby={`${uid}title`}>
      <h2 id={`${uid}title`}>Check a ticket</h2>
      <form className="status-checker__form" onSubmit={submit} noValidate>
        <Field
          id={`${uid}ticket`}
          label="Ticket number"
          name="ticket"
          placeholder="TKT-1000"
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
          error={inputError}
        />
        <button type="submit" className="button">
          Check status
        </button>
      </form>
      <p className="form-problem" role="alert">
        {problem}
      </p>
      {ticket && (
        <article className="ticket" aria-label={`Ticket ${ticket.ticket_id}`}>
          <h3>
            {ticket.ticket_id}
            {ticket.subject ? `: ${ticket.subject}` : ''}
          </h3>
          <p>
            Status: <strong>{STATUS[ticket.status] ?? ticket.status}</strong>
          </p>
          <Conversation messages={ticket.messages} />
          <p className="ticket__waiting" role="status">
            {waiting ? 'Waiting for a reply… this page updates by itself.' : ''}
          </p>
        </article>
      )}
    </section>
  );
}
