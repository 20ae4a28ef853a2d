"""A customer's health: the current score with its breakdown, engagement and churn risk, and
the score over time (issue 19). Another tenant's customer is 404, as one that does not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request

from production.api.admin.auth import Operator, keyed_router, resource_id
from production.api.deps import Db, Now, state
from production.services import customer_health

router = keyed_router()


@router.get("/customers/{customer_id}/health", response_model=customer_health.CustomerHealth)
async def get_customer_health(
    request: Request, customer_id: str, who: Operator, db: Db, now: Now,
    history: Annotated[int, Query(ge=1, le=365)] = 90,
) -> customer_health.CustomerHealth:
    """The customer's health score, band, trend and breakdown, their engagement and churn
    risk, the last `history` scores (oldest first) and when they are looked at next."""
    return await customer_health.health_of(
        pool=db, settings=state(request).settings, tenant_id=who.tenant_id,
        customer_id=resource_id(customer_id, "customer"), now=now, history_limit=history)
