// The /support page: the form, or a ticket's status page at /support/tickets/TKT-n, whose
// link carries the ticket's access token in its fragment (#token=...).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../styles/base.css';
import '../styles/support.css';
import { StatusChecker } from './StatusChecker.jsx';
import { SupportApp } from './SupportApp.jsx';
import { statusHref, supportApi } from './supportApi.js';
import { tokenFromLocation } from './statusLink.js';

const api = supportApi();
const ticketPage = window.location.pathname.match(/^\/support\/tickets\/([^/]+)\/?$/);

createRoot(document.getElementById('root')).render(
  <StrictMode>
    {ticketPage ? (
      <div className="fte-support">
        <StatusChecker
          api={api}
          initialTicketId={decodeURIComponent(ticketPage[1])}
          initialToken={tokenFromLocation(window.location, window.history)}
        />
        <p>
          <a href="/support">Send a new request</a>
        </p>
      </div>
    ) : (
      <SupportApp api={api} statusHref={(ticketId, token) => statusHref('', ticketId, token)} />
    )}
  </StrictMode>,
);
