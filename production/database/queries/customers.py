"""Customers and the identifiers (email addresses, phone numbers) that point to them."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

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
