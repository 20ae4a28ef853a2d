"""The approval inbox (care_proposals, migration 010) and the drafts its proposals hold."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from production.database.pool import Connection

Row = asyncpg.Record

_PROPOSAL_COLUMNS = """
    id, customer_id, message_id, action, status, draft, final_text, decision, outcome,
    decided_by, decided_at, decision_reason, created_at, expires_at,
    expires_at < now() AS expired
"""


async def proposals(conn: Connection, tenant_id: str, *, status: str | None,
                    limit: int) -> list[Row]:
    """Return the tenant's proposals (of one status, when given), oldest first."""
    rows: list[Row] = await conn.fetch(
        f"""
        SELECT {_PROPOSAL_COLUMNS} FROM care_proposals
        WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
        ORDER BY created_at, id
        LIMIT $3
        """,  # noqa: S608 - a constant column list, values are parameters
        tenant_id, status, limit,
    )
    return rows


async def lock_proposal(conn: Connection, tenant_id: str, proposal_id: UUID) -> Row | None:
    """Return the proposal locked for the caller's transaction, or None."""
    row: Row | None = await conn.fetchrow(
        f"""
        SELECT {_PROPOSAL_COLUMNS} FROM care_proposals
        WHERE tenant_id = $1 AND id = $2
        FOR UPDATE
        """,  # noqa: S608 - a constant column list, values are parameters
        tenant_id, proposal_id,
    )
    return row


async def decide(conn: Connection, tenant_id: str, proposal_id: UUID, *, status: str,
                 outcome: str | None, decided_by: str | None, reason: str | None,
                 final_text: str | None) -> None:
    await conn.execute(
        """
        UPDATE care_proposals
        SET status = $3, outcome = $4, decided_by = $5, decided_at = now(),
            decision_reason = $6, final_text = $7
        WHERE tenant_id = $1 AND id = $2
        """,
        tenant_id, proposal_id, status, outcome, decided_by, reason, final_text,
    )


async def lock_draft(conn: Connection, tenant_id: str, message_id: UUID) -> Row | None:
    """Return the agent's outbound message a proposal holds, locked, or None."""
    row: Row | None = await conn.fetchrow(
        """
        SELECT id, customer_id, channel, content, status FROM messages
        WHERE tenant_id = $1 AND id = $2 AND direction = 'outbound'
        FOR UPDATE
        """,
        tenant_id, message_id,
    )
    return row


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


async def reject_draft(conn: Connection, tenant_id: str, message_id: UUID) -> None:
    """Mark a held draft rejected: it will never be sent."""
    await conn.execute(
        """
        UPDATE messages SET status = 'rejected'
        WHERE tenant_id = $1 AND id = $2 AND status = 'pending_approval'
        """,
        tenant_id, message_id,
    )


async def propose(conn: Connection, tenant_id: str, *, customer_id: UUID, message_id: UUID,
                  action: str, draft: str, decision: dict[str, str]) -> None:
    """Put a held action in the approval inbox (once per draft message)."""
    await conn.execute(
        """
        INSERT INTO care_proposals (tenant_id, customer_id, message_id, action, draft, decision)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (tenant_id, message_id) DO NOTHING
        """,
        tenant_id, customer_id, message_id, action, draft, decision,
    )
