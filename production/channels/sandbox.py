"""Sandbox delivery for channels without credentials: the message is recorded, not sent."""

from __future__ import annotations

from production.domain.delivery import DeliveryReceipt, OutboundMessage


class SandboxAdapter:
    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        return DeliveryReceipt(status="sandboxed", provider_ref=f"sandbox:{message.message_id}")
