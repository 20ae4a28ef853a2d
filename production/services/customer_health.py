"""One customer's health for the admin API and the console: the current score, its band,
trend and breakdown, the engagement and churn probabilities, the score over time, and when the
PerceptionScheduler looks at the customer next.

A customer no sweep has scored yet is scored on the spot from their facts at `now` (and
`stored` says so); nothing is written by a read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from production.config import Settings
from production.database.pool import Pool
from production.database.queries import customer_health, identity, perception
from production.database.queries.customer_health import HealthPoint
from production.services import proactive
from production.services.care_admin import NotFound


@dataclass(frozen=True)
class CustomerHealth:
    customer_id: UUID
    score: int
    band: str
    trend: int
    breakdown: list[dict[str, Any]]
    engagement: float
    churn_risk: float
    churn_band: str
    computed_at: datetime
    stored: bool  # False: no sweep has scored the customer yet; computed for this read
    history: list[HealthPoint]
    heat: str | None  # the PerceptionScheduler's view: hot, warm or cold
    next_look_at: datetime | None
    bands: dict[str, int]  # the score below which it is poor, and from which it is good


async def health_of(*, pool: Pool, settings: Settings, tenant_id: str, customer_id: UUID,
                    now: datetime, history_limit: int = 90) -> CustomerHealth:
    """Return the customer's health (a merged id stands for its survivor); NotFound when the
    customer is not the tenant's."""
    async with pool.acquire() as conn:
        live = await identity.live_customer(conn, tenant_id, customer_id)
        if live is None:
            raise NotFound("no such customer")
        current = await customer_health.current(conn, tenant_id=tenant_id, customer_id=live)
        history = await customer_health.history(conn, tenant_id=tenant_id, customer_id=live,
                                                limit=history_limit)
        plan = await perception.plan_of(conn, tenant_id=tenant_id, customer_id=live)
        fresh = None
        if current is None:
            fresh = await proactive.assess_one(conn=conn, settings=settings,
                                               tenant_id=tenant_id, customer_id=live, now=now)
    bands = {"poor_below": settings.proactive.health_poor_below,
             "good_from": settings.proactive.health_good_from}
    heat = plan.heat if plan is not None else None
    next_look_at = plan.next_look_at if plan is not None else None
    if current is not None:
        return CustomerHealth(customer_id=live, score=current.score, band=current.band,
                              trend=current.trend, breakdown=current.breakdown,
                              engagement=current.engagement, churn_risk=current.churn_risk,
                              churn_band=current.churn_band, computed_at=current.computed_at,
                              stored=True, history=history, heat=heat,
                              next_look_at=next_look_at, bands=bands)
    if fresh is None:  # merged away between the two reads
        raise NotFound("no such customer")
    scored, predicted = fresh[1].health, fresh[1].prediction
    assert scored is not None and predicted is not None  # a fresh assessment recomputes
    return CustomerHealth(customer_id=live, score=scored.score, band=scored.band, trend=0,
                          breakdown=scored.breakdown(), engagement=predicted.engagement,
                          churn_risk=predicted.churn_risk, churn_band=predicted.churn_band,
                          computed_at=now, stored=False, history=history, heat=heat,
                          next_look_at=next_look_at, bands=bands)
