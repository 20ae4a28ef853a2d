"""Accepting inbound messages: one round trip each, see migration 002."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from production.database.pool import Connection
from production.domain.identity import Identifier


@dataclass(frozen=True)
class Sender:
    name: str | None
    email: str | None
    phone: str | None
    identifiers: list[Identifier]


async def ingest_inbound(
    conn: Connection, tenant_id: str, *, channel: str, external_id: str, content: str,
    subject: str | None, sender: Sender, metadata: dict[str, Any], received_at: datetime,
    request_hash: str | None, window: timedelta,
) -> tuple[UUID, UUID, UUID, bool]:
    """Store the message once; return (message, customer, conversation, created now)."""
    row = await conn.fetchrow(
        "SELECT * FROM fte_ingest_inbound($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
        "$13, $14)",
        tenant_id, channel, external_id, content, subject, sender.name, sender.email,
        sender.phone, [i.type for i in sender.identifiers],
        [i.value for i in sender.identifiers], metadata, received_at, request_hash, window,
    )
    assert row is not None
    return (row["out_message_id"], row["out_customer_id"], row["out_conversation_id"],
            row["out_created"])


@dataclass(frozen=True)
class WebFormResult:
    ticket_number: str
    created_at: datetime
    replayed: bool
    conflict: bool
    customer_id: UUID
    conversation_id: UUID
    message_id: UUID


async def submit_web_form(
    conn: Connection, tenant_id: str, *, external_id: str, request_hash: str, sender: Sender,
    subject: str, category: str, priority: str, content: str, metadata: dict[str, Any],
    received_at: datetime, window: timedelta, topic: str, key: str, event: dict[str, Any],
) -> WebFormResult:
    """Store the message, open its ticket and queue the worker's event, atomically."""
    row = await conn.fetchrow(
        "SELECT * FROM fte_submit_web_form($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
        "$13, $14, $15, $16, $17, $18)",
        tenant_id, external_id, request_hash, sender.name, sender.email, sender.phone,
        [i.type for i in sender.identifiers], [i.value for i in sender.identifiers], subject,
        category, priority, content, metadata, received_at, window, topic, key, event,
    )
    assert row is not None
    return WebFormResult(
        ticket_number=row["out_ticket_number"], created_at=row["out_created_at"],
        replayed=row["out_replayed"], conflict=row["out_conflict"],
        customer_id=row["out_customer_id"], conversation_id=row["out_conversation_id"],
        message_id=row["out_message_id"],
    )
