"""The dispatcher's WhatsApp channel: the adapter sends a reply's parts, and each part Twilio
accepted is stored at once, so that a retry resumes after the parts already sent; a part whose
acceptance was never stored (the answer lost to a timeout, the database down right after) is
looked for at Twilio before it is sent again (`find_sent`).

The parts are stored on a connection of their own, committing each statement: the dispatcher's
transaction rolls back when something fails after a part went out, and the retry must still
know that part was sent. Not a pooled connection: the dispatcher holds one per reply in flight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from production.channels.base import Refused
from production.channels.whatsapp import WhatsAppAdapter
from production.config import Settings
from production.database.pool import connect
from production.database.queries import whatsapp
from production.domain.delivery import DeliveryReceipt, OutboundMessage

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class WhatsAppDelivery:
    """A channel adapter for the dispatcher: WhatsApp through Twilio, its parts remembered."""

    adapter: WhatsAppAdapter
    settings: Settings
    channel = "whatsapp"

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        """Send the reply's parts not sent yet; `provider_ref` lists every part's SID."""
        sids: list[str] = []
        async with connect(self.settings) as conn:
            sent = await whatsapp.sent_parts(conn, message.tenant_id, message.message_id)
            try:
                async for part in self.adapter.send(message, sent=sent):
                    if part.new:
                        await whatsapp.record_part(conn, message.tenant_id, message.message_id,
                                                   part.index, part.provider_ref)
                    sids.append(part.provider_ref)
            except Refused as refused:
                return DeliveryReceipt(status="failed", error=str(refused),
                                       provider_ref=",".join(sids) or None)
        log.info("whatsapp_reply_sent", message_id=str(message.message_id), parts=len(sids),
                 resumed=len(sent))
        return DeliveryReceipt(status="delivered", provider_ref=",".join(sids))

    async def find_sent(self, message: OutboundMessage, *,
                        since: datetime) -> DeliveryReceipt | None:
        """Store the parts an attempt since `since` sent without storing them: each part not
        stored is looked for among Twilio's messages to the recipient since then (the same
        sender and text, a SID no reply holds). Return the receipt when every part went out,
        else None: the parts still missing are to be sent."""
        bodies = self.adapter.parts(message)
        tenant, message_id = message.tenant_id, message.message_id
        async with connect(self.settings) as conn:
            sent = await whatsapp.sent_parts(conn, tenant, message_id)
            missing = [index for index in range(len(bodies)) if index not in sent]
            if missing:
                candidates = await self.adapter.sent_since(message, since=since)
                taken = await whatsapp.known_sids(conn, tenant, [sid for sid, _ in candidates])
                found = 0
                for index in missing:
                    sid = next((sid for sid, body in candidates
                                if body == bodies[index] and sid not in taken), None)
                    if sid is None:
                        break  # the parts go out in order: none after this one was sent
                    await whatsapp.record_part(conn, tenant, message_id, index, sid)
                    taken.add(sid)
                    sent[index] = sid
                    found += 1
                log.info("whatsapp_parts_found", message_id=str(message_id),
                         looked_for=len(missing), found=found)
        if len(sent) < len(bodies):
            return None
        return DeliveryReceipt(status="delivered",
                               provider_ref=",".join(sent[index] for index in range(len(bodies))))
