"""Storing the agent's reply and all that goes with it in one round trip (migration 003)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from production.database.pool import Connection


@dataclass(frozen=True)
class ReplyRecord:
    content: str
    status: str  # "queued" (released), "deferred" (paced) or "pending_approval" (draft)
    kind: str  # "reply" or "apology"
    tool_calls: list[dict[str, Any]]
    latency_ms: int | None
    tokens: int | None
    escalation_reason: str | None
    inbound_status: str  # "processed" or "failed"
    metrics: dict[str, float]
    metric_dimensions: dict[str, Any]


@dataclass(frozen=True)
class AuditRecord:
    event_type: str
    reason: str
    clause: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class OutboxRecord:
    topic: str
    key: str
    event: dict[str, Any]  # data.message_id is filled in with the reply's id


@dataclass(frozen=True)
class StoredReply:
    content: str
    status: str


async def reply_to(conn: Connection, tenant_id: str, inbound_id: UUID) -> StoredReply | None:
    """Return the agent's reply to an inbound message; None while it has none."""
    row = await conn.fetchrow(
        "SELECT content, status FROM messages WHERE tenant_id = $1 AND in_reply_to = $2 "
        "AND role = 'agent'", tenant_id, inbound_id)
    return None if row is None else StoredReply(content=row["content"], status=row["status"])


async def store_reply(conn: Connection, tenant_id: str, inbound_id: UUID, reply: ReplyRecord,
                      audit: AuditRecord, outbox: OutboxRecord | None, *,
                      now: datetime) -> UUID | None:
    """Store the reply, every row dated `now`; None when the inbound message already had one."""
    reply_id: UUID | None = await conn.fetchval(
        "SELECT fte_store_reply($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
        "$15, $16, $17, $18, $19, $20)",
        tenant_id, inbound_id, reply.content, reply.status, reply.kind, reply.tool_calls,
        reply.latency_ms, reply.tokens, reply.escalation_reason, audit.event_type, audit.reason,
        audit.clause, audit.payload, outbox.topic if outbox else None,
        outbox.key if outbox else None, outbox.event if outbox else None,
        reply.inbound_status, reply.metrics, reply.metric_dimensions, now,
    )
    return reply_id


async def defer(conn: Connection, tenant_id: str, reply_id: UUID, *, until: datetime,
                action: dict[str, Any]) -> None:
    """Note when a deferred reply may go and the action the gates will be asked about then."""
    await conn.execute(
        """
        UPDATE messages
        SET deferred_until = $3, metadata = metadata || jsonb_build_object('action', $4::jsonb)
        WHERE tenant_id = $1 AND id = $2 AND status = 'deferred'
        """,
        tenant_id, reply_id, until, action,
    )


@dataclass(frozen=True)
class DeferredReply:
    """A deferred reply whose time has come, locked for the caller's transaction."""

    tenant_id: str
    id: UUID
    customer_id: UUID
    channel: str
    content: str
    deferred_until: datetime
    kind: str | None  # the reply's kind (metadata.kind)
    action: dict[str, Any]  # the ProposedAction as stored when it was deferred


async def claim_deferred(conn: Connection, *, now: datetime,
                         limit: int) -> list[DeferredReply]:
    """Lock the deferred replies whose time has come by `now`, oldest first (skipping rows
    another scheduler holds), for the caller's transaction."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT tenant_id, id, customer_id, channel, content, deferred_until,
               metadata->>'kind' AS kind, metadata->'action' AS action
        FROM messages
        WHERE status = 'deferred' AND deferred_until <= $1
        ORDER BY deferred_until
        LIMIT $2
        FOR UPDATE SKIP LOCKED
        """,
        now, limit,
    )
    return [DeferredReply(**row) for row in rows]


async def set_released_status(conn: Connection, tenant_id: str, reply_id: UUID, *, status: str,
                              deferred_until: datetime | None) -> None:
    """Give a deferred reply the status the gates decided (queued, deferred again, or held)."""
    await conn.execute(
        """
        UPDATE messages SET status = $3,
                            deferred_until = CASE WHEN $3 = 'deferred' THEN $4::timestamptz END
        WHERE tenant_id = $1 AND id = $2 AND status = 'deferred'
        """,
        tenant_id, reply_id, status, deferred_until,
    )


async def hold_queued(conn: Connection, tenant_id: str, reply_id: UUID) -> None:
    """Turn a released reply that was not sent yet back into a draft (the dispatcher's last
    look found a gate that no longer holds); a parked retry is cancelled with it."""
    await conn.execute(
        """
        UPDATE messages SET status = 'pending_approval', next_delivery_at = NULL
        WHERE tenant_id = $1 AND id = $2 AND status = 'queued'
        """,
        tenant_id, reply_id,
    )
