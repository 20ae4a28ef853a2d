import { useState } from 'react';
import { StatusChecker } from './StatusChecker.jsx';
import { SuccessMessage } from './SuccessMessage.jsx';
import { SupportForm } from './SupportForm.jsx';

/**
 * The form, then its receipt; the status checker follows the new ticket once there is one,
 * with the access token the receipt carries (and the status link keeps).
 */
export function SupportApp({ api, statusHref }) {
  const [receipt, setReceipt] = useState(null);
  return (
    <div className="fte-support">
      {receipt ? (
        <SuccessMessage
          receipt={receipt}
          statusHref={statusHref(receipt.ticket_id, receipt.access_token)}
          onAnother={() => setReceipt(null)}
        />
      ) : (
        <SupportForm api={api} onSubmitted={setReceipt} />
      )}
      <StatusChecker
        key={receipt?.ticket_id ?? ''}
        api={api}
        initialTicketId={receipt?.ticket_id}
        initialToken={receipt?.access_token}
      />
    </div>
  );
}
