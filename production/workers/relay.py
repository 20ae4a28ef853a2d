"""`fte relay`: publish the outbox to Kafka and sweep up unprocessed inbound messages."""

from __future__ import annotations

from production import bootstrap
from production.config import Settings
from production.workers import runtime


async def main(settings: Settings) -> None:
    await runtime.run(settings, "relay", bootstrap.build_relay)
