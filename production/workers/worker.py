"""`fte worker`: consume inbound messages, run the agent, store exactly one reply each."""

from __future__ import annotations

from production import bootstrap
from production.config import Settings
from production.workers import runtime


async def main(settings: Settings) -> None:
    await runtime.run(settings, "worker", bootstrap.build_worker)
