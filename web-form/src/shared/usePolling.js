import { useEffect, useRef } from 'react';

/**
 * Call `poll` now, then `intervalMs` after each call ends, until it resolves to true, the
 * component unmounts or `key` changes (null: do not poll). `poll` gets an AbortSignal that
 * fires on unmount or a key change; it reports its own errors (a throw counts as "not done").
 */
export function usePolling(poll, intervalMs, key) {
  const latest = useRef(poll);
  latest.current = poll;

  useEffect(() => {
    if (key === null || key === undefined) return undefined;
    const controller = new AbortController();
    let timer;
    const tick = async () => {
      const done = await Promise.resolve(latest.current(controller.signal)).catch(() => false);
      if (!done && !controller.signal.aborted) timer = setTimeout(tick, intervalMs);
    };
    tick();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [key, intervalMs]);
}
