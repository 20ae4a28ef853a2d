"""What a delivery is: the reply as a channel sends it, the parts it went out in, and the
receipt of how it went."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
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
    # False for a mail of our own that answers nobody (the operators' daily digest).
    is_reply: bool = True


@dataclass(frozen=True)
class DeliveryReceipt:
    status: Literal["delivered", "sandboxed", "failed"]
    provider_ref: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class SentPart:
    """One part of a reply the provider accepted: `new` when it was sent just now (to be
    stored), not when an earlier attempt had sent it."""

    index: int
    provider_ref: str
    new: bool
