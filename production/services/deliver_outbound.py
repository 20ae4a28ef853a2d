"""The dispatcher's use case: deliver a released reply once, and record how it went."""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from production.channels.base import ChannelAdapter, OutboundMessage
from production.database.pool import Pool
from production.database.queries import deliveries, messages
from production.domain.messages import InvalidMessage, OutboundNotice
from production.metrics import DELIVERIES

log = structlog.get_logger(__name__)


async def deliver(pool: Pool, adapters: Mapping[str, ChannelAdapter],
                  notice: OutboundNotice) -> str:
    """Deliver the reply the notice points at; return the delivery status (idempotent)."""
    adapter = adapters.get(notice.channel)
    if adapter is None:
        raise InvalidMessage(f"no adapter for channel {notice.channel!r}")
    async with pool.acquire() as conn, conn.transaction():
        row = await messages.get_outbound(conn, notice.tenant_id, notice.message_id)
        if row is None:
            raise InvalidMessage("the outbound message does not exist")
        if row["status"] in ("delivered", "delivery_failed"):
            return "duplicate"
        if row["status"] != "queued":
            raise InvalidMessage(f"the message is {row['status']}, not released for delivery")
        recipient = row["email"] if row["channel"] == "email" else row["phone"]
        outbound = OutboundMessage(
            tenant_id=notice.tenant_id, message_id=row["id"], channel=row["channel"],
            recipient=recipient if row["channel"] != "web_form" else None,
            recipient_name=row["name"], subject=row["subject"], body=row["content"],
        )
        # Held under the row lock: a concurrent redelivery waits, then sees "delivered".
        receipt = await adapter.deliver(outbound)
        status = "delivered" if receipt.status != "failed" else "delivery_failed"
        await messages.mark_delivery(conn, notice.tenant_id, row["id"], status=status,
                                     delivery_status=receipt.status,
                                     delivery_ref=receipt.provider_ref)
        await deliveries.record(conn, notice.tenant_id, outbound, receipt)
    DELIVERIES.labels(notice.channel, receipt.status).inc()
    log.info("reply_delivered", channel=notice.channel, status=receipt.status,
             message_id=str(notice.message_id))
    return receipt.status
