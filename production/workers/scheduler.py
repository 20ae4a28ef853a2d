"""`fte scheduler`: release deferred replies, expire drafts, and the time-driven C.A.R.E. work
(silence, NO_RESPONSE labels, daily digests, schedules-mode timed runs)."""

from __future__ import annotations

from production import bootstrap
from production.config import Settings
from production.workers import runtime


async def main(settings: Settings) -> None:
    await runtime.run(settings, "scheduler", bootstrap.build_scheduler)
