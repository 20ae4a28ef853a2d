import { useId, useState } from 'react';
import { Field } from '../shared/Field.jsx';
import { usePolling } from '../shared/usePolling.js';
import { Conversation } from './Conversation.jsx';
import { isEmail } from './validation.js';

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

/** What the number and email fields say is wrong with them (empty when nothing is). */
function problems(id, email, known) {
  const found = {};
  if (!TICKET.test(id)) found.ticket = 'Enter a ticket number like TKT-1000.';
  else if (!known && !isEmail(email)) {
    found.email = 'Enter the email address you opened the ticket with.';
  }
  return found;
}

/**
 * Show a ticket's status and conversation, polling until the agent's reply arrives (or the
 * ticket is closed). A ticket opens only with its access token: the one the form's receipt or
 * a reply's link carries, or the one the server gives for the ticket number and the email it
 * was opened with. Checking again polls again.
 */
export function StatusChecker({ api, initialTicketId = '', initialToken = null, pollMs = POLL_MS }) {
  const uid = useId();
  const [typed, setTyped] = useState(initialTicketId);
  const [email, setEmail] = useState('');
  const [inputErrors, setInputErrors] = useState({});
  const [check, setCheck] = useState(
    initialTicketId && initialToken ? { id: initialTicketId, token: initialToken, n: 0 } : null,
  );
  const [ticket, setTicket] = useState(null);
  const [problem, setProblem] = useState(
    initialTicketId && !initialToken
      ? `Enter the email address you opened ${initialTicketId} with to see it.`
      : null,
  );
  const [looking, setLooking] = useState(false);

  usePolling(
    async (signal) => {
      try {
        const view = await api.ticket(check.id, check.token, signal);
        setTicket(view);
        setProblem(null);
        return settled(view);
      } catch (error) {
        if (signal.aborted) return true;
        if (error.status === 404) {
          setTicket(null);
          setProblem(
            `This link does not open ticket ${check.id}. Enter the email address you opened it with.`,
          );
          return true;
        }
        setProblem(error.message); // a passing outage: keep trying
        return false;
      }
    },
    pollMs,
    check && `${check.id}#${check.n}`,
  );

  async function submit(event) {
    event.preventDefault();
    const id = typed.trim().toUpperCase();
    const address = email.trim();
    // The ticket on screen checks again with the token it has; any other needs the email.
    const known = !address && check?.id === id && check.token;
    const found = problems(id, address, known);
    setInputErrors(found);
    if (Object.keys(found).length) return;
    let token = check?.token;
    if (!known) {
      setLooking(true);
      try {
        token = (await api.lookup(id, address)).access_token;
      } catch (error) {
        setProblem(
          error.status === 404
            ? `We found no ticket ${id} opened with that email address. Check both and try again.`
            : error.message,
        );
        return;
      } finally {
        setLooking(false);
      }
    }
    setProblem(null);
    setTicket((current) => (current?.ticket_id === id ? current : null));
    setCheck((current) => ({ id, token, n: (current?.n ?? 0) + 1 }));
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
          error={inputErrors.ticket}
        />
        <Field
          id={`${uid}email`}
          label="Your email"
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={inputErrors.email}
        />
        <button type="submit" className="button" disabled={looking}>
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
