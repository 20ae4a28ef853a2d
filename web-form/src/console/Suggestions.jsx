import { useState } from 'react';
import { usePolled } from '../shared/usePolled.js';
import { Panel } from './Panel.jsx';
import { SuggestionCard } from './SuggestionCard.jsx';

const DONE = {
  approved: 'approved and done',
  edited: 'edited, approved and done',
  dismissed: 'dismissed',
  snoozed: 'snoozed',
};

/** "What should I do next?": the FTE's suggestions, best first (calibrated acceptance × urgency). */
export function Suggestions({ api, revision, onChange }) {
  const { data, error } = usePolled(() => api.suggestions(), revision);
  const [notice, setNotice] = useState('');
  const suggestions = data?.suggestions ?? [];

  function decided(kind, suggestion) {
    setNotice(`“${suggestion.title}” was ${DONE[kind]}.`);
    onChange();
  }

  return (
    <Panel title={`What should I do next?${data ? ` (${suggestions.length})` : ''}`}>
      <p className="panel__hint">Ranked by {data?.ranked_by ?? 'calibrated acceptance × urgency'}.</p>
      <p className="notice" role="status">
        {notice}
      </p>
      <p className="form-problem" role="alert">
        {error?.message}
      </p>
      {data && suggestions.length === 0 && <p className="empty">No suggestions right now.</p>}
      <ul className="proposals" aria-label="Suggestions">
        {suggestions.map((suggestion) => (
          <SuggestionCard key={suggestion.id} suggestion={suggestion} api={api} onDecided={decided} />
        ))}
      </ul>
    </Panel>
  );
}
