"""What the API's health check asks the broker, cached so that a busy health endpoint does not
become a load on it: is the broker reachable, and does every consumer group hold its partitions."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from production.config import Settings
from production.messaging.kafka import broker_reachable, consumer_groups, groups_ready


@dataclass
class BrokerReadiness:
    settings: Settings
    reachable_ok: bool = False
    reachable_checked_at: float = 0.0
    consumers_seen: dict[str, bool] = field(default_factory=dict)
    consumers_checked_at: float = 0.0
    # Once every consumer group was seen consuming, the stack has started: a later rebalance
    # is `degraded`, never `starting` again.
    started: bool = False
    _reachable_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _consumers_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def reachable(self, *, max_age_s: float = 2.0) -> bool:
        """Return the broker's reachability, probing at most once per `max_age_s`."""
        async with self._reachable_lock:
            if time.monotonic() - self.reachable_checked_at > max_age_s:
                self.reachable_ok = await broker_reachable(self.settings)
                self.reachable_checked_at = time.monotonic()
            return self.reachable_ok

    async def consumers(self, *, max_age_s: float = 2.0) -> dict[str, bool]:
        """Return, per consumer group, whether it holds its partitions (groups_ready), asking
        the broker at most once per `max_age_s`, and every 0.2 s until the stack started."""
        async with self._consumers_lock:
            age = max_age_s if self.started else 0.2
            if time.monotonic() - self.consumers_checked_at > age:
                self.consumers_seen = await groups_ready(self.settings,
                                                         consumer_groups(self.settings))
                self.consumers_checked_at = time.monotonic()
                self.started = self.started or all(self.consumers_seen.values())
            return self.consumers_seen
