"""`fte dispatcher`: deliver released replies through their channel adapter."""

from __future__ import annotations

from production import bootstrap
from production.config import Settings
from production.workers import runtime


async def main(settings: Settings) -> None:
    await runtime.run(settings, "dispatcher", bootstrap.build_dispatcher)
