"""The wall clock, read in one place.

Time is an input: an entrypoint (the scheduler's pass, the worker's message, an API request)
reads `now()` once per decision and hands that instant down; every C.A.R.E. decision below it
compares against it and every row it writes carries it. Nothing under the entrypoints reads
the time itself, so a test decides "today" by the instant it passes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

# A source of instants, for a caller that decides more than once (the worker: the agent's
# "today" when it starts, then the C.A.R.E. decision on the reply once the model answered).
Clock = Callable[[], datetime]


def now() -> datetime:
    """Return the current instant, timezone-aware in UTC."""
    return datetime.now(UTC)
