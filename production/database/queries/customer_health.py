"""Customers' health scores (migration 017): the current one per customer, and a history row
each time the score or the band changed. Written in batches by the sweep."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from production.database.pool import Connection


@dataclass(frozen=True)
class HealthRow:
    customer_id: UUID
    score: int
    band: str
    trend: int
    breakdown: list[dict[str, Any]]
    engagement: float
    churn_risk: float
    churn_band: str
    version: int
    computed_at: datetime


@dataclass(frozen=True)
class HealthPoint:
    computed_at: datetime
    score: int
    band: str
    churn_risk: float
    engagement: float


_COLUMNS = ("customer_id, score, band, trend, breakdown, engagement, churn_risk, churn_band,"
            " version, computed_at")


async def save(conn: Connection, *, tenant_id: str, rows: Sequence[HealthRow],
               changed: Sequence[UUID]) -> None:
    """Store these scores as the customers' current ones; the customers in `changed` (score
    or band not the stored one) also get a history row."""
    if not rows:
        return
    await conn.execute(
        f"INSERT INTO customer_health (tenant_id, {_COLUMNS})"  # noqa: S608 - constant columns
        " SELECT $1, u.id, u.score, u.band, u.trend, u.breakdown::jsonb, u.engagement,"
        "        u.churn_risk, u.churn_band, u.version, u.at"
        " FROM unnest($2::uuid[], $3::int[], $4::text[], $5::int[], $6::text[], $7::real[],"
        "             $8::real[], $9::text[], $10::int[], $11::timestamptz[])"
        "      AS u (id, score, band, trend, breakdown, engagement, churn_risk, churn_band,"
        "            version, at)"
        " ON CONFLICT (tenant_id, customer_id) DO UPDATE SET score = EXCLUDED.score,"
        "  band = EXCLUDED.band, trend = EXCLUDED.trend, breakdown = EXCLUDED.breakdown,"
        "  engagement = EXCLUDED.engagement, churn_risk = EXCLUDED.churn_risk,"
        "  churn_band = EXCLUDED.churn_band, version = EXCLUDED.version,"
        "  computed_at = EXCLUDED.computed_at",
        tenant_id, [r.customer_id for r in rows], [r.score for r in rows],
        [r.band for r in rows], [r.trend for r in rows],
        [json.dumps(r.breakdown) for r in rows], [r.engagement for r in rows],
        [r.churn_risk for r in rows], [r.churn_band for r in rows], [r.version for r in rows],
        [r.computed_at for r in rows])
    if changed:
        await conn.execute(
            "INSERT INTO customer_health_history (tenant_id, customer_id, score, band,"
            " breakdown, engagement, churn_risk, computed_at)"
            " SELECT tenant_id, customer_id, score, band, breakdown, engagement, churn_risk,"
            " computed_at FROM customer_health WHERE tenant_id = $1"
            " AND customer_id = ANY ($2::uuid[])", tenant_id, list(changed))


def _row(row: Any) -> HealthRow:
    return HealthRow(customer_id=row["customer_id"], score=row["score"], band=row["band"],
                     trend=row["trend"], breakdown=list(row["breakdown"]),
                     engagement=row["engagement"], churn_risk=row["churn_risk"],
                     churn_band=row["churn_band"], version=row["version"],
                     computed_at=row["computed_at"])


async def current(conn: Connection, *, tenant_id: str, customer_id: UUID) -> HealthRow | None:
    """The customer's current score, or None before its first computation."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM customer_health"  # noqa: S608 - constant columns
        " WHERE tenant_id = $1 AND customer_id = $2", tenant_id, customer_id)
    return None if row is None else _row(row)


async def history(conn: Connection, *, tenant_id: str, customer_id: UUID,
                  limit: int = 90) -> list[HealthPoint]:
    """The customer's last `limit` scores, oldest first."""
    rows = await conn.fetch(
        "SELECT computed_at, score, band, churn_risk, engagement FROM ("
        " SELECT computed_at, score, band, churn_risk, engagement, id"
        " FROM customer_health_history WHERE tenant_id = $1 AND customer_id = $2"
        " ORDER BY computed_at DESC, id DESC LIMIT $3) h ORDER BY computed_at, id",
        tenant_id, customer_id, limit)
    return [HealthPoint(computed_at=r["computed_at"], score=r["score"], band=r["band"],
                        churn_risk=r["churn_risk"], engagement=r["engagement"]) for r in rows]
