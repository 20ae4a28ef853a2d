"""Limits on what one key (a client address, a sender, a ticket) may do in a window.

A fixed window starts at a key's first counted event; after `limit` events in it, the key
waits it out. The same counter limits failures (count only what failed: ticket guesses) and
requests (count each one: `take`). The clock is the caller's (seconds on any monotonic
scale), so a limiter is a pure function of what it was told.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Keys remembered at most; past it, finished windows are forgotten, then the oldest ones.
MAX_KEYS = 100_000


@dataclass
class WindowLimiter:
    limit: int
    window_s: float
    max_keys: int = MAX_KEYS
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def retry_after(self, key: str, now: float) -> float | None:
        """Return the seconds the key must wait before trying again, or None if it may."""
        window = self._windows.get(key)
        if window is None:
            return None
        started, events = window
        ends = started + self.window_s
        if now >= ends:
            del self._windows[key]
            return None
        return ends - now if events >= self.limit else None

    def count(self, key: str, now: float) -> None:
        """Count one event of the key."""
        window = self._windows.get(key)
        if window is None or now >= window[0] + self.window_s:
            self._make_room(now)
            self._windows[key] = (now, 1)
        else:
            self._windows[key] = (window[0], window[1] + 1)

    def take(self, key: str, now: float) -> float | None:
        """Count one request of the key if it may make it; otherwise return the seconds it
        must wait (a refused request is not counted: waiting is enough)."""
        wait = self.retry_after(key, now)
        if wait is None:
            self.count(key, now)
        return wait

    def _make_room(self, now: float) -> None:
        if len(self._windows) < self.max_keys:
            return
        for key, (started, _) in list(self._windows.items()):
            if now >= started + self.window_s:
                del self._windows[key]
        while len(self._windows) >= self.max_keys:
            del self._windows[next(iter(self._windows))]


@dataclass(frozen=True)
class PublicLimits:
    """The public endpoints' request limits (per API process): the support form per client
    address and per sender's email; ticket reads and lookups per client address and per
    ticket (or lookup email); failed ticket reads and lookups per client address."""

    form_per_client: WindowLimiter
    form_per_sender: WindowLimiter
    tickets_per_client: WindowLimiter
    tickets_per_subject: WindowLimiter
    ticket_failures: WindowLimiter
