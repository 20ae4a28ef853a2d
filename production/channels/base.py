"""What every channel adapter offers the dispatcher."""

from __future__ import annotations

from typing import Protocol

from production.domain.delivery import DeliveryReceipt, OutboundMessage


class ProviderUnavailable(Exception):
    """The provider did not take the message, and trying again later may work: a timeout, a
    connection error, a 5xx or a 429. The dispatcher retries it with backoff behind the
    channel's circuit breaker. A permanent refusal (an invalid number, a 4xx) is a `failed`
    receipt instead."""


class Refused(Exception):
    """The provider refused the message for good (an invalid number, a 4xx), or there is no
    one to send it to: retrying will not help. Its message says why, with no number in it."""


class ChannelAdapter(Protocol):
    channel: str

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt: ...
