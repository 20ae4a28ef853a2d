"""What every channel adapter offers the dispatcher."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from uuid import UUID


@dataclass(frozen=True)
class OutboundMessage:
    tenant_id: str
    message_id: UUID
    channel: str
    recipient: str | None
    recipient_name: str | None
    subject: str | None
    body: str
    # The customer message this replies to: its provider id (Gmail message id, Twilio
    # MessageSid) and the metadata intake stored with it (Gmail threadId and Message-ID header,
    # the WhatsApp number it came from...). Empty when the reply answers no stored message.
    reply_to_external_id: str | None = None
    reply_to_metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryReceipt:
    status: Literal["delivered", "sandboxed", "failed"]
    provider_ref: str | None = None
    error: str | None = None


class ProviderUnavailable(Exception):
    """The provider did not take the message, and trying again later may work: a timeout, a
    connection error, a 5xx or a 429. The dispatcher retries it with backoff behind the
    channel's circuit breaker. A permanent refusal (an invalid number, a 4xx) is a `failed`
    receipt instead."""


class ChannelAdapter(Protocol):
    channel: str

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt: ...
