"""What every channel adapter offers the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol
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


@dataclass(frozen=True)
class DeliveryReceipt:
    status: Literal["delivered", "sandboxed", "failed"]
    provider_ref: str | None = None
    error: str | None = None


class ChannelAdapter(Protocol):
    channel: str

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt: ...
