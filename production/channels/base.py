"""What every channel adapter offers the dispatcher."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from production.domain.delivery import DeliveryReceipt, OutboundMessage


class ProviderUnavailable(Exception):
    """The provider did not take the message, and trying again later may work: a timeout, a
    connection error, a 5xx or a 429. The dispatcher retries it with backoff behind the
    channel's circuit breaker. A permanent refusal (an invalid number, a 4xx) is a `failed`
    receipt instead.

    `maybe_sent`: the request may have reached the provider and been accepted (a read timeout,
    a connection dropped after the request went out), so its outcome is not known; False when
    the provider answered with an error or was never reached."""

    def __init__(self, reason: str, *, maybe_sent: bool = False) -> None:
        super().__init__(reason)
        self.maybe_sent = maybe_sent


class Refused(Exception):
    """The provider refused the message for good (an invalid number, a 4xx), or there is no
    one to send it to: retrying will not help. Its message says why, with no number in it."""


class ChannelAdapter(Protocol):
    channel: str

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt: ...


@runtime_checkable
class SearchableAdapter(Protocol):
    """A channel whose provider can be asked what it already took, for a provider that takes
    no idempotency key: before a send is repeated after an attempt whose outcome is not known,
    the dispatcher looks for that attempt's message there."""

    channel: str

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt: ...

    async def find_sent(self, message: OutboundMessage, *,
                        since: datetime) -> DeliveryReceipt | None:
        """Return the receipt of this message as the provider holds it, sent by an attempt
        that started at `since` or later; None when it did not go out (whole). Raises
        `ProviderUnavailable` when the provider cannot be asked now."""
        ...
