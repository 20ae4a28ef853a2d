import { useState } from 'react';
import { when, words } from '../shared/format.js';
import { useAction } from '../shared/useAction.js';
import { usePolling } from '../shared/usePolling.js';
import { Panel } from './Panel.jsx';

const AUTOPILOT = 'fte-agent';

/** Who acted: the autopilot, an operator by name, or the system's own name for itself. */
function actor(entry) {
  if (entry.actor === AUTOPILOT) return 'Autopilot';
  return entry.actor?.startsWith('operator:') ? entry.actor.slice('operator:'.length) : entry.actor;
}

/** Newest first: the fresh first page, then what was loaded before that is older than it. */
function merge(fresh, loaded) {
  const oldest = Math.min(...fresh.map((entry) => entry.id));
  return [...fresh, ...loaded.filter((entry) => entry.id < oldest)];
}

/** "Autopilot did X": every action that was carried out, by the autopilot or by a person. */
export function Timeline({ api, revision }) {
  const [entries, setEntries] = useState(null);
  const [olderFrom, setOlderFrom] = useState(null); // next_before_id of the oldest page loaded
  const [error, setError] = useState(null);
  const older = useAction(async () => {
    const page = await api.activity(olderFrom);
    setEntries((current) => [...current, ...page.entries]);
    setOlderFrom(page.next_before_id);
  });

  usePolling(
    async (signal) => {
      try {
        const page = await api.activity();
        if (signal.aborted) return false;
        setEntries((current) =>
          current && page.entries.length ? merge(page.entries, current) : page.entries,
        );
        setOlderFrom((current) => current ?? page.next_before_id);
        setError(null);
      } catch (failure) {
        if (!signal.aborted) setError(failure);
      }
      return false;
    },
    3000,
    revision,
  );

  return (
    <Panel title="What autopilot did">
      <p className="form-problem" role="alert">
        {(error ?? older.error)?.message}
      </p>
      {entries?.length === 0 && <p className="empty">Nothing has been done yet.</p>}
      <ol className="timeline__entries" aria-label="Actions, newest first">
        {entries?.map((entry) => (
          <li
            key={entry.id}
            className={
              entry.actor === AUTOPILOT ? 'timeline__entry timeline__entry--autopilot' : 'timeline__entry'
            }
          >
            <p>
              <strong>{actor(entry)}</strong> {words(entry.payload?.action ?? entry.event_type)}
              {entry.payload?.channel && ` via ${words(entry.payload.channel)}`}
            </p>
            <p className="timeline__meta">
              <time dateTime={entry.created_at}>{when(entry.created_at)}</time>
              {entry.reason && ` · ${entry.reason}`}
            </p>
          </li>
        ))}
      </ol>
      {olderFrom !== null && (
        <button
          type="button"
          className="button button--quiet"
          disabled={older.busy}
          onClick={() => older.perform()}
        >
          {older.busy ? 'Loading…' : 'Show older'}
        </button>
      )}
    </Panel>
  );
}
