import { useState } from 'react';
import { usePolling } from './usePolling.js';

/** Load data now, again every `intervalMs` and whenever `key` changes; keep the latest (and the
 * error of the last load that failed, until one succeeds). */
export function usePolled(load, key, intervalMs = 3000) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  usePolling(
    async (signal) => {
      try {
        const value = await load();
        if (!signal.aborted) {
          setData(value);
          setError(null);
        }
      } catch (failure) {
        if (!signal.aborted) setError(failure);
      }
      return false;
    },
    intervalMs,
    key,
  );
  return { data, error };
}
