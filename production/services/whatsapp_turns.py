"""WhatsApp turns: a quick burst of messages from one customer is answered once.

Customers type "hi" / "my export is stuck" / "it's a csv" as three messages a second apart.
The worker holds each Twilio message until the turn window since it arrived has passed. A
message followed within the window by a newer one is folded into it (processed, no reply of its
own); the last message of the burst leads the turn and is answered with the text of the whole
chain. The links are stored, so a redelivered message finds the same answer, every message
ends processed and each turn gets exactly one reply (the lead's, by the one-reply rule).

One sender's messages share a Kafka key (their phone number), and the consumer loop handles
one key's records in offset order, so a lead is never processed before the messages folded into
it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import structlog

from production import clock
from production.config import Settings
from production.database.pool import Pool
from production.database.queries import messages, whatsapp
from production.database.queries.messages import LockedInbound
from production.domain import whatsapp as rules
from production.domain.messages import InboundMessage

log = structlog.get_logger(__name__)

# Lets a webhook that arrived just inside the window commit before the turn is decided.
COMMIT_GRACE = timedelta(milliseconds=250)


@dataclass(frozen=True)
class Turn:
    outcome: Literal["lead", "merged", "duplicate"]
    # The lead's: the turn's text to answer; None when no message of the turn has text.
    text: str | None = None


def applies(msg: InboundMessage) -> bool:
    """True for WhatsApp messages that came through Twilio (`fte ask` and `fte eval` messages
    stand alone)."""
    return msg.channel == "whatsapp" and rules.is_from_twilio(msg.metadata)


async def settle(*, pool: Pool, settings: Settings, inbound: LockedInbound) -> Turn:
    """Wait out the turn window of an accepted message, then fold it into the customer's next
    message or return the text of the turn it leads. `inbound` is its `lock_inbound` row."""
    window = timedelta(seconds=settings.twilio.turn_window_s)
    await _wait_until(inbound.created_at + window + COMMIT_GRACE, bound=window + COMMIT_GRACE)
    tenant_id = inbound.tenant_id
    async with pool.acquire() as conn, conn.transaction():
        row = await messages.lock_inbound(conn, tenant_id, inbound.id)
        if row is None or row.status != "accepted":
            return Turn("duplicate")  # a concurrent delivery of the same message settled it
        later = await whatsapp.next_in_turn(
            conn, tenant_id, conversation_id=row.conversation_id, message_id=row.id,
            created_at=row.created_at, window=window)
        if later is not None:
            await whatsapp.merge_into(conn, tenant_id, row.id, later)
            log.info("whatsapp_message_merged", customer_id=str(row.customer_id),
                     conversation_id=str(row.conversation_id))
            return Turn("merged")
        turn = await whatsapp.turn_messages(conn, tenant_id, row.id)
    if len(turn) > 1:
        log.info("whatsapp_turn_combined", customer_id=str(inbound.customer_id),
                 messages=len(turn))
    return Turn("lead", rules.turn_text([(m.content, m.metadata) for m in turn]))


async def _wait_until(moment: datetime, *, bound: timedelta) -> None:
    # Bounded: the API's clock (which stamped the message) may run ahead of this one.
    remaining = min(moment - clock.now(), bound).total_seconds()
    if remaining > 0:
        await asyncio.sleep(remaining)
