"""Scheduled delivery retries, the start of a provider call whose outcome is not known yet
(migration 020) and the providers' circuit-breaker state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from production.database.pool import Connection


async def schedule_retry(conn: Connection, tenant_id: str, message_id: UUID, *, attempts: int,
                         at: datetime, error: str) -> None:
    await conn.execute(
        """
        UPDATE messages SET delivery_attempts = $3, next_delivery_at = $4,
                            last_delivery_error = $5
        WHERE tenant_id = $1 AND id = $2
        """,
        tenant_id, message_id, attempts, at, error,
    )


async def record_attempt(conn: Connection, tenant_id: str, message_id: UUID, *, attempts: int,
                         error: str | None) -> None:
    """Record the final attempt (delivered or given up): no retry is pending any more, and no
    provider call is left whose outcome is not known."""
    await conn.execute(
        """
        UPDATE messages SET delivery_attempts = $3, next_delivery_at = NULL,
                            last_delivery_error = $4, delivery_started_at = NULL
        WHERE tenant_id = $1 AND id = $2
        """,
        tenant_id, message_id, attempts, error,
    )


async def start_attempt(conn: Connection, tenant_id: str, message_id: UUID, *,
                        at: datetime) -> None:
    """Write down that a provider call starts at `at` (to be committed before the call)."""
    await conn.execute(
        "UPDATE messages SET delivery_started_at = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id, message_id, at,
    )


async def settle_attempt(conn: Connection, tenant_id: str, message_id: UUID) -> None:
    """Forget the provider call's start: its outcome is known (it did not go out)."""
    await conn.execute(
        "UPDATE messages SET delivery_started_at = NULL WHERE tenant_id = $1 AND id = $2",
        tenant_id, message_id,
    )


@dataclass(frozen=True)
class DueRetry:
    """A parked reply whose retry is due: what the dispatcher's announcement names."""

    tenant_id: str
    id: UUID
    channel: str
    customer_id: UUID


@dataclass(frozen=True)
class BreakerState:
    """A channel's circuit breaker as the dispatcher last saved it."""

    channel: str
    state: str  # closed, half_open or open
    consecutive_failures: int
    last_error: str | None
    updated_at: datetime


async def claim_due(conn: Connection, *, now: datetime, limit: int) -> list[DueRetry]:
    """Take the replies whose retry is due by `now` (skipping rows another dispatcher holds)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        WITH due AS (
            SELECT tenant_id, id FROM messages
            WHERE status = 'queued' AND next_delivery_at <= $1
            ORDER BY next_delivery_at
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        )
        UPDATE messages m SET next_delivery_at = NULL
        FROM due WHERE m.tenant_id = due.tenant_id AND m.id = due.id
        RETURNING m.tenant_id, m.id, m.channel, m.customer_id
        """,
        now, limit,
    )
    return [DueRetry(**row) for row in rows]


async def save_breaker(conn: Connection, channel: str, *, state: str, failures: int,
                       error: str | None) -> None:
    await conn.execute(
        """
        INSERT INTO channel_health (channel, state, consecutive_failures, last_error, updated_at)
        VALUES ($1, $2, $3, $4, now())
        ON CONFLICT (channel) DO UPDATE
        SET state = excluded.state, consecutive_failures = excluded.consecutive_failures,
            last_error = excluded.last_error, updated_at = now()
        """,
        channel, state, failures, error,
    )


async def breaker_states(conn: Connection) -> dict[str, BreakerState]:
    """Return each channel's saved breaker, by channel."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT channel, state, consecutive_failures, last_error, updated_at FROM channel_health")
    return {row["channel"]: BreakerState(**row) for row in rows}
