import { useState } from 'react';
import { usePolled } from '../shared/usePolled.js';
import { Panel } from './Panel.jsx';
import { ProposalCard } from './ProposalCard.jsx';

const DONE = { approved: 'approved and sent', edited: 'edited and sent', rejected: 'rejected' };

/** "Needs your input": the drafts waiting for a person, oldest first. */
export function Inbox({ api, revision, onChange }) {
  const { data, error } = usePolled(() => api.proposals(), revision);
  const [notice, setNotice] = useState('');
  const proposals = data?.proposals ?? [];

  function decided(kind, proposal) {
    setNotice(`The reply to ${proposal.customer_name ?? 'the customer'} was ${DONE[kind]}.`);
    onChange();
  }

  return (
    <Panel title={`Needs your input${data ? ` (${proposals.length})` : ''}`}>
      <p className="notice" role="status">
        {notice}
      </p>
      <p className="form-problem" role="alert">
        {error?.message}
      </p>
      {data && proposals.length === 0 && <p className="empty">Nothing is waiting for you.</p>}
      <ul className="proposals">
        {proposals.map((proposal) => (
          <ProposalCard key={proposal.id} proposal={proposal} api={api} onDecided={decided} />
        ))}
      </ul>
    </Panel>
  );
}
