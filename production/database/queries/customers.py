"""Customers and the identifiers (email addresses, phone numbers) that point to them."""

from __future__ import annotations

from uuid import UUID

from production.database.pool import Connection


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
