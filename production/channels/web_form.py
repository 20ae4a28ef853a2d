"""The web form channel: a reply is delivered by becoming visible on the ticket."""

from __future__ import annotations

from production.domain.delivery import DeliveryReceipt, OutboundMessage


class WebFormAdapter:
    channel = "web_form"

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        return DeliveryReceipt(status="delivered", provider_ref=f"ticket-view:{message.message_id}")
