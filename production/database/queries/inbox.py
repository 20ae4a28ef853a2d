"""The approval inbox (care_proposals, migration 010) and the drafts its proposals hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import asyncpg

from production.database.pool import Connection

Row = asyncpg.Record

_PROPOSAL_COLUMNS = """
    id, customer_id, message_id, action, status, draft, final_text, decision, outcome,
    decided_by, decided_at, decision_reason, created_at, expires_at
"""

# How long a held action waits in the approval inbox before it expires unsent.
PROPOSAL_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class StoredProposal:
    """A care_proposals row, and whether it was past its time at the instant asked about."""

    id: UUID
    customer_id: UUID
    message_id: UUID | None  # the held draft, for send_reply
    action: str
    status: str
    draft: str
    final_text: str | None
    decision: dict[str, Any]
    outcome: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    created_at: datetime
    expires_at: datetime
    expired: bool


@dataclass(frozen=True)
class ListedProposal(StoredProposal):
    """A proposal as the approval inbox lists it, with what an operator needs to decide it."""

    response_outcome: str | None
    customer_name: str | None
    channel: str | None
    ticket_id: str | None  # the ticket's number
    subject: str | None
    inbound: str | None  # the customer's message the draft answers


async def proposals(conn: Connection, tenant_id: str, *, status: str | None, limit: int,
                    now: datetime) -> list[ListedProposal]:
    """Return the tenant's proposals (of one status, when given), oldest first, each with what
    an operator needs to decide it: the customer's name, the channel, the ticket, and the
    customer's message the draft answers; `expired` says whether it was past its time at
    `now`."""
    rows: list[Row] = await conn.fetch(
        """
        SELECT p.id, p.customer_id, p.message_id, p.action, p.status, p.draft, p.final_text,
               p.decision, p.outcome, p.response_outcome, p.decided_by, p.decided_at,
               p.decision_reason, p.created_at, p.expires_at, p.expires_at < $4 AS expired,
               c.name AS customer_name, d.channel, t.ticket_number AS ticket_id,
               i.subject, i.content AS inbound
        FROM care_proposals p
        JOIN customers c ON c.tenant_id = p.tenant_id AND c.id = p.customer_id
        LEFT JOIN messages d ON d.tenant_id = p.tenant_id AND d.id = p.message_id
        LEFT JOIN messages i ON i.tenant_id = d.tenant_id AND i.id = d.in_reply_to
        LEFT JOIN tickets t ON t.tenant_id = d.tenant_id AND t.id = d.ticket_id
        WHERE p.tenant_id = $1 AND ($2::text IS NULL OR p.status = $2)
        ORDER BY p.created_at, p.id
        LIMIT $3
        """,
        tenant_id, status, limit, now,
    )
    return [ListedProposal(**row) for row in rows]


async def lock_proposal(conn: Connection, tenant_id: str, proposal_id: UUID, *,
                        now: datetime) -> StoredProposal | None:
    """Return the proposal locked for the caller's transaction (`expired`: past its time at
    `now`), or None."""
    row: Row | None = await conn.fetchrow(
        f"""
        SELECT {_PROPOSAL_COLUMNS}, expires_at < $3 AS expired FROM care_proposals
        WHERE tenant_id = $1 AND id = $2
        FOR UPDATE
        """,  # noqa: S608 - a constant column list, values are parameters
        tenant_id, proposal_id, now,
    )
    return None if row is None else StoredProposal(**row)


async def decide(conn: Connection, tenant_id: str, proposal_id: UUID, *, status: str,
                 outcome: str | None, decided_by: str | None, reason: str | None,
                 final_text: str | None, now: datetime) -> None:
    await conn.execute(
        """
        UPDATE care_proposals
        SET status = $3, outcome = $4, decided_by = $5, decided_at = $8,
            decision_reason = $6, final_text = $7
        WHERE tenant_id = $1 AND id = $2
        """,
        tenant_id, proposal_id, status, outcome, decided_by, reason, final_text, now,
    )


@dataclass(frozen=True)
class StoredDraft:
    """The outbound message a proposal holds."""

    id: UUID
    customer_id: UUID
    channel: str
    content: str
    status: str


async def lock_draft(conn: Connection, tenant_id: str, message_id: UUID) -> StoredDraft | None:
    """Return the agent's outbound message a proposal holds, locked, or None."""
    row: Row | None = await conn.fetchrow(
        """
        SELECT id, customer_id, channel, content, status FROM messages
        WHERE tenant_id = $1 AND id = $2 AND direction = 'outbound'
        FOR UPDATE
        """,
        tenant_id, message_id,
    )
    return None if row is None else StoredDraft(**row)


async def release_draft(conn: Connection, tenant_id: str, message_id: UUID, *,
                        content: str, approved_by: str, proposal_id: UUID) -> None:
    """Release a held draft for delivery (status queued), with its final content."""
    await conn.execute(
        """
        UPDATE messages
        SET status = 'queued', content = $3,
            metadata = metadata || jsonb_build_object('approved_by', $4::text,
                                                      'proposal_id', $5::text)
        WHERE tenant_id = $1 AND id = $2 AND status = 'pending_approval'
        """,
        tenant_id, message_id, content, approved_by, str(proposal_id),
    )


async def close_draft(conn: Connection, tenant_id: str, message_id: UUID, *,
                      status: Literal["rejected", "expired"]) -> None:
    """Mark a held draft rejected (by a person) or expired (nobody decided in time): it will
    never be sent."""
    await conn.execute(
        """
        UPDATE messages SET status = $3
        WHERE tenant_id = $1 AND id = $2 AND status = 'pending_approval'
        """,
        tenant_id, message_id, status,
    )


async def propose(conn: Connection, tenant_id: str, *, customer_id: UUID, message_id: UUID,
                  action: str, draft: str, decision: dict[str, str], now: datetime) -> None:
    """Put a held action in the approval inbox (once per draft message), proposed at `now`
    and expiring PROPOSAL_LIFETIME later."""
    await conn.execute(
        """
        INSERT INTO care_proposals (tenant_id, customer_id, message_id, action, draft, decision,
                                    created_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (tenant_id, message_id) DO NOTHING
        """,
        tenant_id, customer_id, message_id, action, draft, decision, now,
        now + PROPOSAL_LIFETIME,
    )


async def record_execution_failed(conn: Connection, tenant_id: str, message_id: UUID) -> None:
    """Label the approved proposal whose reply could not be delivered EXECUTION_FAILED: the idea
    was accepted, the execution went wrong (OutcomeTaxonomyV1)."""
    await conn.execute(
        """
        UPDATE care_proposals SET outcome = 'EXECUTION_FAILED'
        WHERE tenant_id = $1 AND message_id = $2 AND status IN ('approved', 'edited')
        """,
        tenant_id, message_id,
    )


async def note_response(conn: Connection, tenant_id: str, customer_id: UUID, *, at: datetime,
                        negative: bool) -> int:
    """The customer wrote at `at`: their delivered, approved replies awaiting an answer have
    one (NEGATIVE_RESPONSE when it is negative); return how many."""
    status: str = await conn.execute(
        """
        UPDATE care_proposals p
        SET responded_at = $3,
            response_outcome = CASE WHEN $4 THEN 'NEGATIVE_RESPONSE' END
        FROM messages m
        WHERE p.tenant_id = $1 AND p.status IN ('approved', 'edited')
          AND p.responded_at IS NULL AND p.response_outcome IS NULL
          AND p.customer_id IN (SELECT id FROM customers
                                WHERE tenant_id = $1 AND (id = $2 OR merged_into = $2))
          AND m.tenant_id = p.tenant_id AND m.id = p.message_id
          AND m.status = 'delivered' AND m.delivered_at < $3
        """,
        tenant_id, customer_id, at, negative,
    )
    return int(status.split()[-1])


async def mark_no_response(conn: Connection, *, delivered_before: datetime, limit: int) -> int:
    """Label NO_RESPONSE the approved replies delivered before the cut-off that nobody answered;
    return how many (every tenant: a sweep of the scheduler)."""
    status: str = await conn.execute(
        """
        WITH due AS (
            SELECT p.tenant_id, p.id FROM care_proposals p
            JOIN messages m ON m.tenant_id = p.tenant_id AND m.id = p.message_id
            WHERE p.status IN ('approved', 'edited') AND p.responded_at IS NULL
              AND p.response_outcome IS NULL
              AND m.status = 'delivered' AND m.delivered_at < $1
            LIMIT $2
            FOR UPDATE OF p SKIP LOCKED
        )
        UPDATE care_proposals p SET response_outcome = 'NO_RESPONSE'
        FROM due WHERE p.tenant_id = due.tenant_id AND p.id = due.id
        """,
        delivered_before, limit,
    )
    return int(status.split()[-1])


@dataclass(frozen=True)
class ExpiredProposal:
    """A pending proposal the sweep found past its time (and expired, with its draft)."""

    tenant_id: str
    id: UUID
    customer_id: UUID
    message_id: UUID | None
    action: str
    expires_at: datetime


async def claim_expired(conn: Connection, *, now: datetime, limit: int) -> list[ExpiredProposal]:
    """Mark expired (at `now`) the pending proposals past their expiry, and their drafts; return
    them (every tenant: a sweep of the scheduler; rows another scheduler holds are skipped)."""
    rows = await conn.fetch(
        """
        WITH due AS (
            SELECT tenant_id, id FROM care_proposals
            WHERE status = 'pending' AND expires_at < $1
            ORDER BY expires_at LIMIT $2
            FOR UPDATE SKIP LOCKED
        ), expired AS (
            UPDATE care_proposals p
            SET status = 'expired', decided_at = $1,
                decision_reason = 'expired before a decision'
            FROM due WHERE p.tenant_id = due.tenant_id AND p.id = due.id
            RETURNING p.tenant_id, p.id, p.customer_id, p.message_id, p.action, p.expires_at
        ), drafts AS (
            UPDATE messages m SET status = 'expired'
            FROM expired e
            WHERE m.tenant_id = e.tenant_id AND m.id = e.message_id
              AND m.status = 'pending_approval'
        )
        SELECT * FROM expired
        """,
        now, limit,
    )
    return [ExpiredProposal(**row) for row in rows]
