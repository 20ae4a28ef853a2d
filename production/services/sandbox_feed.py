"""What the sandbox records (replies and operator mail on channels without credentials), as
`fte up` shows it to the developer in its console: the reply as it went out, link included."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from production import clock
from production.config import Settings
from production.database.pool import UNAVAILABLE_OR_REFUSED, connect
from production.database.queries import deliveries
from production.domain.ticket_access import TicketLinks
from production.services import ticket_access


def block(row: deliveries.SandboxedDelivery, links: TicketLinks, tenant_id: str) -> str:
    """Return how `fte up` shows a message that went to the sandbox instead of a provider."""
    channel = "Email" if row.channel == "email" else "WhatsApp"
    head = f"[sandbox] {channel} to {row.recipient}"
    if row.ticket_number:
        head += f" (ticket {row.ticket_number})"
    if row.subject:
        head += f"\n  Subject: {row.subject}"
    sent = ticket_access.as_sent(links, tenant_id, row)
    body = "\n".join(f"  | {line}" for line in sent.splitlines())
    return f"{head}\n{body}\n"


async def follow(*, settings: Settings, tenant_id: str, links: TicketLinks,
                 emit: Callable[[str], object], interval_s: float = 1.0) -> None:
    """Emit every message the sandbox records from now on, until cancelled; a database that
    restarts (under supervision) or refuses for a moment is waited out."""
    after = clock.now()
    while True:
        try:
            async with connect(settings) as conn:
                while True:
                    rows = await deliveries.sandboxed(conn, tenant_id, channel=None, limit=50,
                                                      after=after)
                    for row in rows:
                        emit(block(row, links, tenant_id))
                        after = row.created_at
                    await asyncio.sleep(interval_s)
        except UNAVAILABLE_OR_REFUSED:
            await asyncio.sleep(interval_s)
