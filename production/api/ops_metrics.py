"""/api/v1/metrics: the operators' view from the database, for a tenant's operator key.

`channels`: per channel and in total over a period (1h, 24h or 7d); `series`: the console's
Health page over the last hours; `alerts`: the open alerts the scheduler's threshold checks
recorded. Every number is the key's tenant's only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from production.api.admin.auth import Operator, keyed_router
from production.api.deps import Db, Now
from production.services import ops_health

_keyed = keyed_router()


@_keyed.get("/channels")
async def channels(who: Operator, db: Db, now: Now, period: str = "24h") -> dict[str, Any]:
    """Per channel and in total: conversations, messages in and out, average sentiment,
    escalations and their rate, p50/p95 first response, automation rate."""
    return await ops_health.channel_metrics(db, tenant_id=who.tenant_id, period=period, now=now)


@_keyed.get("/series")
async def series(who: Operator, db: Db, now: Now,
                 hours: Annotated[int, Query()] = 6,
                 step_s: Annotated[int, Query()] = 300) -> dict[str, Any]:
    """One point per step over the last `hours`: p95 first response per channel, escalation
    and automation rates, dead letters, inbound messages waiting, the oldest draft's age."""
    return await ops_health.time_series(db, tenant_id=who.tenant_id, hours=hours,
                                        step=timedelta(seconds=step_s), now=now)


@_keyed.get("/alerts")
async def alerts(who: Operator, db: Db) -> dict[str, Any]:
    """The open alerts, critical first."""
    return {"alerts": await ops_health.open_alerts(db, tenant_id=who.tenant_id)}


router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"])
router.include_router(_keyed)
