// The /support page: the form, or a ticket's status page at /support/tickets/TKT-n.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../styles/base.css';
import '../styles/support.css';
import { StatusChecker } from './StatusChecker.jsx';
import { SupportApp } from './SupportApp.jsx';
import { supportApi } from './supportApi.js';

const api = supportApi();
const statusHref = (ticketId) => `/support/tickets/${encodeURIComponent(ticketId)}`;
const ticketPage = window.location.pathname.match(/^\/support\/tickets\/([^/]+)\/?$/);

createRoot(document.getElementById('root')).render(
  <StrictMode>
    {ticketPage ? (
      <div className="fte-support">
        <StatusChecker api={api} initialTicketId={decodeURIComponent(ticketPage[1])} />
        <p>
          <a href="/support">Send a new request</a>
        </p>
      </div>
    ) : (
      <SupportApp api={api} statusHref={statusHref} />
    )}
  </StrictMode>,
);
