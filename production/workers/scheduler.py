"""`fte scheduler`: release deferred replies, expire drafts, and the time-driven C.A.R.E. work
(silence, NO_RESPONSE labels, daily digests, schedules-mode timed runs)."""

from __future__ import annotations

from production.config import Settings
from production.services.scheduler import run_scheduler
from production.workers.runtime import runtime


async def main(settings: Settings) -> None:
    async with runtime(settings, name="scheduler") as rt:
        await run_scheduler(rt.pool, settings, rt.stopping)
