"""Customer merges and merge candidates (the link/merge decision itself runs in intake's SQL,
migration 006)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from production.database.pool import Connection
from production.domain.identity import Claim, Identifier, Owner

Row = asyncpg.Record


@dataclass(frozen=True)
class MergeRecord:
    """A customer_merges row: a merge done, or a candidate and what became of it."""

    id: UUID
    survivor_id: UUID
    merged_id: UUID
    status: str
    reason: str
    actor: str
    evidence: dict[str, Any]
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None


@dataclass(frozen=True)
class LockedCustomer:
    """A customer row a merge holds locked."""

    id: UUID
    merged_into: UUID | None
    created_at: datetime


_MERGE_COLUMNS = """
    id, survivor_id, merged_id, status, reason, evidence, actor, created_at, decided_by,
    decided_at, decision_reason
"""


async def lock_for_merge(conn: Connection, tenant_id: str, customer_ids: Sequence[UUID]
                         ) -> list[LockedCustomer]:
    """Lock the customers for a merge (the caller's transaction) and return their rows.

    First the advisory locks intake takes on their identifiers (same order as intake), then
    the rows FOR UPDATE in id order, so a merge and an intake of the same people serialize.
    """
    ids = sorted(set(customer_ids))
    await conn.execute("SELECT fte_lock_identifiers_of($1, $2::uuid[])", tenant_id, ids)
    rows: list[Row] = await conn.fetch(
        """
        SELECT id, merged_into, created_at FROM customers
        WHERE tenant_id = $1 AND id = ANY ($2::uuid[])
        ORDER BY id
        FOR UPDATE
        """,
        tenant_id, ids,
    )
    return [LockedCustomer(**row) for row in rows]


async def merge_locked(conn: Connection, tenant_id: str, *, survivor_id: UUID, merged_id: UUID,
                       actor: str, reason: str, evidence: dict[str, Any]) -> UUID:
    """Fold one locked customer into another; return the merge record's id."""
    merge_id: UUID = await conn.fetchval(
        "SELECT fte_merge_locked($1, $2, $3, $4, $5, $6)",
        tenant_id, survivor_id, merged_id, actor, reason, evidence,
    )
    return merge_id


async def get_merge(conn: Connection, tenant_id: str, merge_id: UUID) -> MergeRecord | None:
    row: Row | None = await conn.fetchrow(
        f"SELECT {_MERGE_COLUMNS} FROM customer_merges WHERE tenant_id = $1 AND id = $2",  # noqa: S608 - constant columns
        tenant_id, merge_id,
    )
    return None if row is None else MergeRecord(**row)


async def open_candidates(conn: Connection, tenant_id: str, *,
                          limit: int) -> list[MergeRecord]:
    """Return the merge candidates waiting for a human, oldest first."""
    rows: list[Row] = await conn.fetch(
        f"""
        SELECT {_MERGE_COLUMNS} FROM customer_merges
        WHERE tenant_id = $1 AND status = 'candidate'
        ORDER BY created_at, id LIMIT $2
        """,  # noqa: S608 - a constant column list, values are parameters
        tenant_id, limit,
    )
    return [MergeRecord(**row) for row in rows]


async def lock_candidate(conn: Connection, tenant_id: str,
                         candidate_id: UUID) -> MergeRecord | None:
    row: Row | None = await conn.fetchrow(
        f"""
        SELECT {_MERGE_COLUMNS} FROM customer_merges
        WHERE tenant_id = $1 AND id = $2 FOR UPDATE
        """,  # noqa: S608 - a constant column list, values are parameters
        tenant_id, candidate_id,
    )
    return None if row is None else MergeRecord(**row)


async def dismiss_candidate(conn: Connection, tenant_id: str, candidate_id: UUID, *,
                            actor: str, reason: str) -> None:
    await conn.execute(
        """
        UPDATE customer_merges
        SET status = 'dismissed', decided_by = $3, decided_at = now(), decision_reason = $4
        WHERE tenant_id = $1 AND id = $2 AND status = 'candidate'
        """,
        tenant_id, candidate_id, actor, reason,
    )


async def claims(conn: Connection, tenant_id: str, identifiers: Sequence[Identifier]
                 ) -> list[Claim]:
    """Return each identifier with the customer owning it now (what intake decides on)."""
    rows = await conn.fetch(
        """
        SELECT u.t, u.v, c.id, c.created_at,
               EXISTS (SELECT 1 FROM customer_identifiers e
                       WHERE e.tenant_id = $1 AND e.customer_id = c.id
                         AND e.identifier_type = 'email') AS owns_email
        FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u (t, v, n)
        LEFT JOIN customer_identifiers ci
               ON ci.tenant_id = $1 AND ci.identifier_type = u.t AND ci.identifier_value = u.v
        LEFT JOIN customers c ON c.tenant_id = $1 AND c.id = ci.customer_id
        ORDER BY u.n
        """,
        tenant_id, [i.type for i in identifiers], [i.value for i in identifiers],
    )
    return [
        Claim(Identifier(row["t"], row["v"]),
              None if row["id"] is None else Owner(row["id"], row["created_at"],
                                                   row["owns_email"]))
        for row in rows
    ]


async def live_customer(conn: Connection, tenant_id: str, customer_id: UUID) -> UUID | None:
    """Return the customer a (possibly merged) customer id stands for now, or None."""
    live: UUID | None = await conn.fetchval(
        """
        SELECT coalesce(merged_into, id) FROM customers WHERE tenant_id = $1 AND id = $2
        """,
        tenant_id, customer_id,
    )
    return live


# customer_merges.status (migration 006).
MERGE_STATUSES = ("merged", "candidate", "accepted", "dismissed", "superseded")


@dataclass(frozen=True)
class RecognitionCount:
    """One tenant's customers recognized across channels, and its merges of one status (None:
    no merge yet)."""

    tenant_id: str
    linked: int
    status: str | None
    merges: int


async def recognition_counts(conn: Connection) -> list[RecognitionCount]:
    """Return, per tenant, its live customers known by both an email address and a phone
    number (recognized across channels), and its customer merges by status (one row per
    tenant and status; status None: no merge yet)."""
    rows = await conn.fetch(
        """
        SELECT t.id AS tenant_id,
               (SELECT count(*) FROM (
                    SELECT ci.customer_id FROM customer_identifiers ci
                    JOIN customers c ON c.tenant_id = ci.tenant_id AND c.id = ci.customer_id
                    WHERE ci.tenant_id = t.id AND c.merged_into IS NULL
                    GROUP BY ci.customer_id
                    HAVING count(DISTINCT ci.identifier_type = 'email') > 1) linked
               ) AS linked,
               m.status, coalesce(m.merges, 0) AS merges
        FROM tenants t
        LEFT JOIN (SELECT tenant_id, status, count(*) AS merges FROM customer_merges
                   GROUP BY tenant_id, status) m ON m.tenant_id = t.id
        ORDER BY t.id, m.status
        """,
    )
    return [RecognitionCount(**row) for row in rows]
