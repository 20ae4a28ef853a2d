"""Customers and the identifiers that point at them."""

from __future__ import annotations

from uuid import UUID

from production.database.pool import Connection
from production.domain.identity import Identifier


async def lock_identifiers(conn: Connection, tenant_id: str, ids: list[Identifier]) -> None:
    """Serialize concurrent resolves of the same identifiers until the transaction ends."""
    for ident in sorted(ids):
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            f"{tenant_id}|{ident.type}|{ident.value}",
        )


async def find_by_identifiers(
    conn: Connection, tenant_id: str, ids: list[Identifier]
) -> list[UUID]:
    """Return the distinct customers owning any of the identifiers, oldest first."""
    if not ids:
        return []
    rows = await conn.fetch(
        """
        SELECT ci.customer_id, min(c.created_at) AS since
        FROM customer_identifiers ci JOIN customers c ON c.id = ci.customer_id
        WHERE ci.tenant_id = $1
          AND (ci.identifier_type, ci.identifier_value) IN (
              SELECT * FROM unnest($2::text[], $3::text[]))
        GROUP BY ci.customer_id ORDER BY since
        """,
        tenant_id,
        [i.type for i in ids],
        [i.value for i in ids],
    )
    return [row["customer_id"] for row in rows]


async def create(
    conn: Connection, tenant_id: str, *, name: str | None, email: str | None, phone: str | None
) -> UUID:
    customer_id: UUID = await conn.fetchval(
        "INSERT INTO customers (tenant_id, name, email, phone) VALUES ($1, $2, $3, $4) "
        "RETURNING id",
        tenant_id,
        name,
        email,
        phone,
    )
    return customer_id


async def add_identifiers(
    conn: Connection, tenant_id: str, customer_id: UUID, ids: list[Identifier]
) -> None:
    """Link identifiers to the customer; ones already linked anywhere are left as they are."""
    if ids:
        await conn.executemany(
            """
            INSERT INTO customer_identifiers (tenant_id, customer_id, identifier_type,
                                              identifier_value)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant_id, identifier_type, identifier_value) DO NOTHING
            """,
            [(tenant_id, customer_id, i.type, i.value) for i in ids],
        )


async def fill_missing_details(
    conn: Connection, tenant_id: str, customer_id: UUID, *, name: str | None,
    email: str | None, phone: str | None
) -> None:
    await conn.execute(
        """
        UPDATE customers SET name = coalesce(name, $3), email = coalesce(email, $4),
                             phone = coalesce(phone, $5), updated_at = now()
        WHERE tenant_id = $1 AND id = $2
          AND (name IS NULL AND $3::text IS NOT NULL OR email IS NULL AND $4::text IS NOT NULL
               OR phone IS NULL AND $5::text IS NOT NULL)
        """,
        tenant_id,
        customer_id,
        name,
        email,
        phone,
    )
