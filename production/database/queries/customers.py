"""Customers, the identifiers (email addresses, phone numbers) that point to them, and the
console's listing of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from production.database.pool import Connection
from production.domain.identity import Identifier


async def identifiers(conn: Connection, tenant_id: str, customer_id: UUID) -> tuple[str, ...]:
    """Return every email address and phone number known for the customer."""
    rows = await conn.fetch(
        "SELECT identifier_value FROM customer_identifiers "
        "WHERE tenant_id = $1 AND customer_id = $2 ORDER BY identifier_value",
        tenant_id, customer_id,
    )
    return tuple(row["identifier_value"] for row in rows)


async def default_region(conn: Connection, tenant_id: str) -> str | None:
    """Return the tenant's region for phone numbers written in national format."""
    region: str | None = await conn.fetchval(
        "SELECT default_region FROM tenants WHERE id = $1", tenant_id)
    return region


async def owner_of(conn: Connection, tenant_id: str,
                   identifiers: Sequence[Identifier]) -> UUID | None:
    """Return the customer owning any of the identifiers (the oldest, as intake resolves)."""
    customer_id: UUID | None = await conn.fetchval(
        """
        SELECT ci.customer_id
        FROM customer_identifiers ci
        JOIN customers c ON c.tenant_id = ci.tenant_id AND c.id = ci.customer_id
        WHERE ci.tenant_id = $1
          AND (ci.identifier_type, ci.identifier_value) IN (
              SELECT * FROM unnest($2::text[], $3::text[]))
        ORDER BY c.created_at
        LIMIT 1
        """,
        tenant_id, [i.type for i in identifiers], [i.value for i in identifiers],
    )
    return customer_id


def _like(text: str) -> str:
    """Return a LIKE pattern matching `text` anywhere, its own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class CustomerSummary:
    """A customer as the console lists them: contact, C.A.R.E. consent, state and mode."""

    customer_id: UUID
    name: str | None
    email: str | None
    phone: str | None
    care_state: str
    hands_off: bool
    escalation_status: str | None
    mode_override: str | None
    effective_mode: str
    last_contact_at: datetime | None


async def listing(conn: Connection, tenant_id: str, *, query: str | None,
                  escalation_open: bool, limit: int) -> list[CustomerSummary]:
    """Return the tenant's customers (not the merged-away ones) with their C.A.R.E. consent,
    state and mode, most recent contact first; `query` matches name, email or phone."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT c.id AS customer_id, c.name, c.email, c.phone,
               coalesce(s.care_state, 'unaware') AS care_state,
               coalesce(s.hands_off_enabled, cs.hands_off_new_customers, false) AS hands_off,
               s.escalation_status, s.autonomy_mode AS mode_override,
               coalesce(s.autonomy_mode, cs.autonomy_mode, 'assist') AS effective_mode,
               last.created_at AS last_contact_at
        FROM customers c
        LEFT JOIN care_settings cs ON cs.tenant_id = c.tenant_id
        LEFT JOIN customer_care_state s
               ON s.tenant_id = c.tenant_id AND s.entity_type = 'contact' AND s.entity_id = c.id
        LEFT JOIN LATERAL (
            SELECT m.created_at FROM messages m
            WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id
            ORDER BY m.created_at DESC LIMIT 1
        ) last ON true
        WHERE c.tenant_id = $1 AND c.merged_into IS NULL
          AND ($2::text IS NULL OR c.name ILIKE $2 OR c.email ILIKE $2 OR c.phone LIKE $2)
          AND (NOT $3 OR s.escalation_status = 'open')
        ORDER BY last.created_at DESC NULLS LAST, c.created_at DESC
        LIMIT $4
        """,
        tenant_id, _like(query) if query else None, escalation_open, limit,
    )
    return [CustomerSummary(**row) for row in rows]
