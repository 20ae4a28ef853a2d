"""The transactional outbox: events written with the state they announce, relayed later."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from production.database.pool import Connection
from production.domain.messages import OutboundNotice, encode_event


async def enqueue(
    conn: Connection, tenant_id: str, *, topic: str, key: str, payload: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> int:
    """Add an event to the outbox (inside the caller's transaction)."""
    outbox_id: int = await conn.fetchval(
        """
        INSERT INTO outbox (tenant_id, topic, message_key, payload, headers)
        VALUES ($1, $2, $3, $4, $5) RETURNING id
        """,
        tenant_id,
        topic,
        key,
        payload,
        headers or {},
    )
    return outbox_id


async def enqueue_delivery(conn: Connection, tenant_id: str, *, message_id: UUID, channel: str,
                           customer_id: UUID, topic: str) -> int:
    """Announce a released reply to the dispatcher (inside the caller's transaction).

    Keyed by customer, so one customer's replies stay in order on one partition.
    """
    notice = OutboundNotice(tenant_id=tenant_id, message_id=message_id, channel=channel)
    return await enqueue(conn, tenant_id, topic=topic, key=str(customer_id),
                         payload=encode_event("outbound_message", notice))


async def claim_batch(conn: Connection, *, limit: int) -> list[asyncpg.Record]:
    """Lock the oldest unpublished events (skipping ones another relay holds)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, tenant_id, topic, message_key, payload, headers FROM outbox
        WHERE published_at IS NULL
        ORDER BY id LIMIT $1
        FOR UPDATE SKIP LOCKED
        """,
        limit,
    )
    return rows


async def backlog(conn: Connection, *, limit: int = 10_000) -> tuple[int, datetime | None]:
    """Return how many events wait to be published (counted up to `limit`) and when the
    oldest was written (None: none waits). Across tenants: the relay publishes them all."""
    row = await conn.fetchrow(
        """
        SELECT (SELECT count(*) FROM (SELECT 1 FROM outbox WHERE published_at IS NULL
                                      LIMIT $1) waiting) AS waiting,
               (SELECT created_at FROM outbox WHERE published_at IS NULL
                ORDER BY id LIMIT 1) AS oldest
        """,
        limit,
    )
    assert row is not None
    return int(row["waiting"]), row["oldest"]


async def mark_published(conn: Connection, ids: list[int]) -> None:
    await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1)", ids)


async def mark_failed(conn: Connection, ids: list[int], error: str) -> None:
    await conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1)",
        ids,
        error[:500],
    )


async def purge_published(conn: Connection, *, older_than_s: float) -> int:
    status: str = await conn.execute(
        "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)",
        older_than_s,
    )
    return int(status.split()[-1])


# Any constant works; every relay process uses the same one.
_RELAY_LOCK_KEY = 7_340_112_234


async def try_lead(conn: Connection) -> bool:
    """Take the relay leadership on this session if nobody holds it."""
    got: bool = await conn.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK_KEY)
    return got


async def stop_leading(conn: Connection) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", _RELAY_LOCK_KEY)
