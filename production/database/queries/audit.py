"""The append-only C.A.R.E. audit trail."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from production.database.pool import Connection


async def append(
    conn: Connection, tenant_id: str, *, event_type: str, actor: str, reason: str,
    policy_clause: str | None, customer_id: UUID | None, message_id: UUID | None,
    payload: dict[str, Any],
) -> None:
    await conn.execute(
        """
        INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause, customer_id,
                                message_id, payload)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        tenant_id,
        event_type,
        actor,
        reason,
        policy_clause,
        customer_id,
        message_id,
        payload,
    )
