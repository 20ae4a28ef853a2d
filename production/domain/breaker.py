"""A circuit breaker per provider: stop calling a provider that keeps failing, try again later.

closed: calls go through; `threshold` consecutive failures open it.
open: calls are refused without touching the provider until `cooldown_s` has passed.
half_open: one trial call goes through; its success closes the breaker, its failure reopens it.
Pure: the clock is injected, nothing is persisted here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

BreakerState = Literal["closed", "open", "half_open"]


@dataclass
class CircuitBreaker:
    threshold: int = 5
    cooldown_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    state: BreakerState = "closed"
    failures: int = 0
    last_error: str | None = None
    _opened_at: float = field(default=0.0, repr=False)
    _trial_running: bool = field(default=False, repr=False)

    def allow(self) -> bool:
        """Return whether a call may go to the provider now."""
        if self.state == "open" and self.clock() - self._opened_at >= self.cooldown_s:
            self.state, self._trial_running = "half_open", False
        if self.state == "closed":
            return True
        if self.state == "half_open" and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def retry_in(self) -> float:
        """Return the seconds until a call may be tried again (0 when one may go now)."""
        if self.state == "open":
            return max(0.0, self._opened_at + self.cooldown_s - self.clock())
        return 0.0

    def succeeded(self) -> bool:
        """Record a successful call; return True if the state changed."""
        changed = self.state != "closed" or self.failures > 0
        self.state, self.failures, self.last_error = "closed", 0, None
        return changed

    def failed(self, error: str) -> bool:
        """Record a failed call; return True if the state changed."""
        self.failures += 1
        self.last_error = error
        if self.state == "half_open" or (self.state == "closed"
                                         and self.failures >= self.threshold):
            self.state, self._opened_at = "open", self.clock()
            return True
        return False


def backoff_s(attempt: int, *, initial_s: float, max_s: float) -> float:
    """Return the wait before retry number `attempt` (1-based): doubling, capped."""
    return float(min(max_s, initial_s * 2 ** max(attempt - 1, 0)))
