"""A limit on failures per client: after `limit` failures in a window, the client waits it out.

Fixed windows that start at a client's first failure. The clock is the caller's (seconds on
any monotonic scale), so the limiter is a pure function of what it was told.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Clients remembered at most; past it, finished windows are forgotten, then the oldest ones.
MAX_CLIENTS = 100_000


@dataclass
class FailureLimiter:
    limit: int
    window_s: float
    max_clients: int = MAX_CLIENTS
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def retry_after(self, client: str, now: float) -> float | None:
        """Return the seconds the client must wait before trying again, or None if it may."""
        window = self._windows.get(client)
        if window is None:
            return None
        started, failures = window
        ends = started + self.window_s
        if now >= ends:
            del self._windows[client]
            return None
        return ends - now if failures >= self.limit else None

    def failed(self, client: str, now: float) -> None:
        """Count one failure of the client."""
        window = self._windows.get(client)
        if window is None or now >= window[0] + self.window_s:
            self._make_room(now)
            self._windows[client] = (now, 1)
        else:
            self._windows[client] = (window[0], window[1] + 1)

    def _make_room(self, now: float) -> None:
        if len(self._windows) < self.max_clients:
            return
        for client, (started, _) in list(self._windows.items()):
            if now >= started + self.window_s:
                del self._windows[client]
        while len(self._windows) >= self.max_clients:
            del self._windows[next(iter(self._windows))]
