"""Tickets: the customer-visible record of a request, numbered TKT-<digits>."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from production.database.pool import Connection


async def create(
    conn: Connection, tenant_id: str, *, customer_id: UUID, conversation_id: UUID,
    source_channel: str, source_message_id: UUID, subject: str | None, category: str,
    priority: str,
) -> tuple[UUID, str, datetime]:
    """Open a ticket for a source message (once: a second call returns the first ticket)."""
    row = await conn.fetchrow(
        """
        INSERT INTO tickets (tenant_id, customer_id, conversation_id, source_channel,
                             source_message_id, subject, category, priority)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (tenant_id, source_message_id) DO UPDATE SET updated_at = tickets.updated_at
        RETURNING id, ticket_number, created_at
        """,
        tenant_id,
        customer_id,
        conversation_id,
        source_channel,
        source_message_id,
        subject,
        category,
        priority,
    )
    assert row is not None
    return row["id"], row["ticket_number"], row["created_at"]


async def get_by_number(conn: Connection, tenant_id: str, number: str) -> dict[str, Any] | None:
    """Return the ticket with its access nonce and token hash (or None)."""
    row = await conn.fetchrow(
        """
        SELECT id, ticket_number, status, category, priority, source_channel, subject,
               escalation_reason, created_at, updated_at, resolved_at, access_nonce, access_hash
        FROM tickets WHERE tenant_id = $1 AND ticket_number = $2
        """,
        tenant_id,
        number,
    )
    return dict(row) if row else None


async def with_owner_emails(conn: Connection, tenant_id: str,
                            number: str) -> dict[str, Any] | None:
    """Return the ticket's access nonce and token hash with its customer's email addresses."""
    row = await conn.fetchrow(
        """
        SELECT t.ticket_number, t.access_nonce, t.access_hash,
               coalesce(array_agg(ci.identifier_value)
                        FILTER (WHERE ci.identifier_value IS NOT NULL), '{}') AS emails
        FROM tickets t
        LEFT JOIN customer_identifiers ci
               ON ci.tenant_id = t.tenant_id AND ci.customer_id = t.customer_id
              AND ci.identifier_type = 'email'
        WHERE t.tenant_id = $1 AND t.ticket_number = $2
        GROUP BY t.id
        """,
        tenant_id,
        number,
    )
    return dict(row) if row else None


async def access_of(conn: Connection, tenant_id: str,
                    number: str) -> tuple[bytes | None, bytes | None]:
    """Return the ticket's access nonce and token hash (both None before its token is issued)."""
    row = await conn.fetchrow(
        "SELECT access_nonce, access_hash FROM tickets WHERE tenant_id = $1 AND ticket_number = $2",
        tenant_id,
        number,
    )
    return (row["access_nonce"], row["access_hash"]) if row else (None, None)


async def set_access(conn: Connection, tenant_id: str, number: str, *, replaces: bytes | None,
                     nonce: bytes, token_hash: bytes) -> bool:
    """Store the ticket's access nonce and token hash if its nonce is still `replaces`; return
    False when another issuer changed it first (compare-and-set, so two issuers agree)."""
    status: str = await conn.execute(
        """
        UPDATE tickets SET access_nonce = $4, access_hash = $5
        WHERE tenant_id = $1 AND ticket_number = $2 AND access_nonce IS NOT DISTINCT FROM $3
        """,
        tenant_id,
        number,
        replaces,
        nonce,
        token_hash,
    )
    return status == "UPDATE 1"


async def get_number(conn: Connection, tenant_id: str, ticket_id: UUID) -> str | None:
    number: str | None = await conn.fetchval(
        "SELECT ticket_number FROM tickets WHERE tenant_id = $1 AND id = $2", tenant_id, ticket_id
    )
    return number


async def escalate(conn: Connection, tenant_id: str, number: str, reason: str, *,
                   now: datetime) -> UUID | None:
    """Mark the ticket escalated and audit it at `now` (caller's transaction); return its
    customer's id, or None if there is no such ticket."""
    row = await conn.fetchrow(
        """
        UPDATE tickets SET status = 'escalated', escalation_reason = $3, updated_at = $4
        WHERE tenant_id = $1 AND ticket_number = $2
        RETURNING id, customer_id, source_message_id
        """,
        tenant_id, number, reason, now,
    )
    if row is None:
        return None
    await conn.execute(
        """
        INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause,
                                customer_id, message_id, payload, created_at)
        VALUES ($1, 'would_escalate', 'fte-mcp', $2, 'PR3.escalation_detector', $3, $4,
                jsonb_build_object('ticket_id', $5::uuid), $6)
        """,
        tenant_id, reason, row["customer_id"], row["source_message_id"], row["id"], now,
    )
    customer_id: UUID = row["customer_id"]
    return customer_id


async def resolve_confirmed(conn: Connection, tenant_id: str, *, ticket_id: UUID,
                            customer_id: UUID, now: datetime) -> int:
    """Resolve a closing's ticket and the customer's answered tickets waiting on them (the
    customer confirmed it works), at `now`; an escalated ticket stays with its specialist.
    Return how many tickets were resolved."""
    result = await conn.execute(
        """
        UPDATE tickets
        SET status = 'resolved', resolved_at = $4, updated_at = $4,
            resolution_notes = coalesce(resolution_notes, 'confirmed by the customer')
        WHERE tenant_id = $1 AND customer_id = $3
          AND (id = $2 OR status = 'waiting_customer')
          AND status NOT IN ('escalated', 'resolved', 'closed')
        """,
        tenant_id, ticket_id, customer_id, now,
    )
    return int(result.split()[-1])
