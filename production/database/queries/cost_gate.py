"""The DecisionCostGate's facts, its token reservations and its audit (migration 018).

Every statement is scoped to one tenant. The tenant's local day is computed here, from the
caller's instant and tenants.timezone, the way care_daily_actions counts its day (migration
011), so a reservation, its settlement and the facts read all name the same day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from production.database.pool import Connection


@dataclass(frozen=True)
class GateFacts:
    """What the gate reads before deciding, for one tenant, customer and trigger at `now`."""

    tier: str
    timezone: str
    day: date  # the tenant's local day of `now`
    tokens_used: int
    last_allowed_at: datetime | None
    pending: int


async def lock_subject(conn: Connection, tenant_id: str, customer_id: UUID,
                       trigger: str) -> None:
    """Serialize the gate's decisions on one customer and trigger until the transaction ends,
    so two runs never both pass the recency check on the same last run."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('cost_gate|' || $1 || '|' || $2 || '|'"
        " || $3, 0))", tenant_id, str(customer_id), trigger)


async def facts(conn: Connection, tenant_id: str, *, customer_id: UUID, trigger: str,
                now: datetime) -> GateFacts | None:
    """Return the tenant's tier, zone, local day and tokens of that day, the customer's last
    run allowed for `trigger` (at or before `now`) and their pending proposals and suggestions
    that have not expired; None for an unknown tenant."""
    row = await conn.fetchrow(
        """
        WITH today AS (SELECT ($2::timestamptz AT TIME ZONE t.timezone)::date AS day
                       FROM tenants t WHERE t.id = $1)
        SELECT t.model_tier, t.timezone, today.day,
               coalesce((SELECT b.tokens FROM care_model_budget b
                         WHERE b.tenant_id = $1 AND b.day = today.day), 0) AS tokens_used,
               (SELECT max(d.decided_at) FROM care_cost_decisions d
                WHERE d.tenant_id = $1 AND d.customer_id = $3 AND d.trigger = $4
                  AND d.decision = 'ALLOW' AND d.decided_at <= $2) AS last_allowed_at,
               (SELECT count(*) FROM care_proposals p
                WHERE p.tenant_id = $1 AND p.customer_id = $3 AND p.status = 'pending'
                  AND p.expires_at > $2)
               + (SELECT count(*) FROM care_suggestions s
                  WHERE s.tenant_id = $1 AND s.customer_id = $3 AND s.status = 'pending'
                    AND s.expires_at > $2) AS pending
        FROM tenants t, today WHERE t.id = $1
        """,
        tenant_id, now, customer_id, trigger)
    if row is None:
        return None
    return GateFacts(tier=row["model_tier"], timezone=row["timezone"], day=row["day"],
                     tokens_used=int(row["tokens_used"]),
                     last_allowed_at=row["last_allowed_at"], pending=int(row["pending"]))


async def reserve(conn: Connection, tenant_id: str, *, tokens: int, limit: int,
                  now: datetime) -> int | None:
    """Add `tokens` to the tenant's tokens of its local day at `now` if the sum stays within
    `limit`; return the new sum, or None when it would not (nothing changed).

    One statement: the upsert locks the day's row and re-checks the sum on its latest version,
    so however many runs reserve at once, the day never passes `limit`."""
    total: int | None = await conn.fetchval(
        """
        INSERT INTO care_model_budget AS b (tenant_id, day, tokens, updated_at)
        SELECT $1, ($2::timestamptz AT TIME ZONE t.timezone)::date, $3::bigint, $2::timestamptz
        FROM tenants t WHERE t.id = $1 AND $3::bigint <= $4::bigint
        ON CONFLICT (tenant_id, day) DO UPDATE
            SET tokens = b.tokens + EXCLUDED.tokens, updated_at = EXCLUDED.updated_at
            WHERE b.tokens + EXCLUDED.tokens <= $4::bigint
        RETURNING b.tokens
        """,
        tenant_id, now, tokens, limit)
    return total


async def settle(conn: Connection, tenant_id: str, *, reserved: int, actual: int,
                 now: datetime) -> int | None:
    """Replace a reservation of `reserved` tokens by the `actual` tokens the run used, on the
    tenant's local day of `now` (the instant the reservation was made at); return the day's
    new sum (None: no reservation that day)."""
    total: int | None = await conn.fetchval(
        """
        UPDATE care_model_budget b
        SET tokens = greatest(b.tokens - $3::bigint + $4::bigint, 0), updated_at = $2
        FROM tenants t
        WHERE t.id = $1 AND b.tenant_id = $1
          AND b.day = ($2::timestamptz AT TIME ZONE t.timezone)::date
        RETURNING b.tokens
        """,
        tenant_id, now, reserved, actual)
    return total


@dataclass(frozen=True)
class DecisionRecord:
    """One decision, as the audit keeps it."""

    customer_id: UUID
    trigger: str
    decision: str
    reason: str
    tier: str
    day: date
    estimated_tokens: int
    estimated_cost_usd: float
    tokens_used: int
    token_limit: int
    pending: int
    retry_at: datetime | None


async def audit(conn: Connection, tenant_id: str, record: DecisionRecord, *,
                now: datetime) -> None:
    """Append the decision to care_cost_decisions, at `now`."""
    await conn.execute(
        """
        INSERT INTO care_cost_decisions (tenant_id, customer_id, trigger, decision, reason, tier,
            day, estimated_tokens, estimated_cost_usd, tokens_used, token_limit, pending,
            retry_at, decided_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        """,
        tenant_id, record.customer_id, record.trigger, record.decision, record.reason,
        record.tier, record.day, record.estimated_tokens, record.estimated_cost_usd,
        record.tokens_used, record.token_limit, record.pending, record.retry_at, now)


async def tokens_of_day(conn: Connection, tenant_id: str, *, now: datetime) -> int:
    """Return the tenant's tokens reserved or spent on its local day of `now`."""
    value = await conn.fetchval(
        "SELECT b.tokens FROM care_model_budget b JOIN tenants t ON t.id = b.tenant_id"
        " WHERE b.tenant_id = $1 AND b.day = ($2::timestamptz AT TIME ZONE t.timezone)::date",
        tenant_id, now)
    return 0 if value is None else int(value)


async def hold_inbound(conn: Connection, tenant_id: str, message_id: UUID, *,
                       until: datetime) -> None:
    """Hold an accepted inbound message unanswered until `until` (the sweeper's next look)."""
    await conn.execute(
        "UPDATE messages SET held_until = $3 WHERE tenant_id = $1 AND id = $2"
        " AND direction = 'inbound' AND status = 'accepted'", tenant_id, message_id, until)
