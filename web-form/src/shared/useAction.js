import { useRef, useState } from 'react';

/**
 * Run an async action on demand: `busy` while it runs (a second call meanwhile is ignored),
 * `error` with what it failed with (an ApiError: `message`, `status`). `perform` resolves to true when it succeeded.
 */
export function useAction(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const running = useRef(false);

  async function perform(...args) {
    if (running.current) return false;
    running.current = true;
    setBusy(true);
    setError(null);
    try {
      await action(...args);
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    } finally {
      running.current = false;
      setBusy(false);
    }
  }

  return { busy, error, perform, clearError: () => setError(null) };
}
