"""Twilio's delivery status callbacks: what became of a WhatsApp reply after it left."""

from __future__ import annotations

from typing import Literal

import structlog

from production.database.pool import Pool
from production.database.queries import whatsapp
from production.domain.whatsapp import KNOWN_STATUSES, StatusUpdate, status_advances

log = structlog.get_logger(__name__)

Recorded = Literal["advanced", "kept", "unknown_sid", "unknown_status"]


async def record(pool: Pool, *, tenant_id: str, update: StatusUpdate) -> Recorded:
    """Store the event and move the reply's delivery status forward (never back).

    Returns "advanced", "kept" (a late or repeated status), "unknown_sid" (not one of ours)
    or "unknown_status" (a status Twilio added that we do not know).
    """
    if update.status not in KNOWN_STATUSES:
        log.warning("whatsapp_status_unknown", status=update.status, sid=update.sid)
        return "unknown_status"
    async with pool.acquire() as conn, conn.transaction():
        target = await whatsapp.lock_message_for_sid(conn, tenant_id, update.sid)
        if target is None:
            log.warning("whatsapp_status_for_unknown_sid", status=update.status, sid=update.sid)
            return "unknown_sid"
        await whatsapp.record_event(conn, tenant_id, target.id, sid=update.sid,
                                    status=update.status, error_code=update.error_code)
        if not status_advances(target.delivery_status, update.status):
            return "kept"
        await whatsapp.set_delivery_status(conn, tenant_id, target.id, update.status)
    log.info("whatsapp_delivery_status", message_id=str(target.id), status=update.status,
             error_code=update.error_code)
    return "advanced"
