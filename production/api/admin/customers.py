"""The tenant's customers: the listing, and per customer its care state, hands-off consent,
mode override and the close of an open escalation."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from production.api.admin.auth import Admin, Operator, keyed_router, resource_id
from production.api.admin.schemas import (
    CustomerListing,
    CustomerModeChange,
    CustomerView,
    EscalationClose,
    HandsOffChange,
)
from production.api.deps import Db, Now
from production.services import care_customers

router = keyed_router()


@router.get("/customers", response_model=CustomerListing)
async def list_customers(
    who: Operator, db: Db,
    q: Annotated[str | None, Query(max_length=200)] = None,
    escalation: Annotated[Literal["open"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CustomerListing:
    """The tenant's customers, most recent contact first; `q` matches name, email or phone,
    `escalation=open` keeps those a person must handle."""
    rows = await care_customers.customers(pool=db, tenant_id=who.tenant_id,
                                          query=(q or "").strip() or None,
                                          escalation_open=escalation == "open", limit=limit)
    return CustomerListing(customers=[CustomerView(**row) for row in rows])


@router.post("/customers/{customer_id}/escalation/close",
             response_model=care_customers.CustomerCare)
async def close_escalation(customer_id: str, body: EscalationClose, who: Operator,
                           db: Db, now: Now) -> care_customers.CustomerCare:
    """A person handled the escalation: autonomy may act for this customer again."""
    return await care_customers.close_escalation(pool=db, tenant_id=who.tenant_id,
                                                 customer_id=resource_id(customer_id, "customer"),
                                                 reason=body.reason, actor=who.actor, now=now)


@router.get("/customers/{customer_id}/care", response_model=care_customers.CustomerCare)
async def get_customer_care(customer_id: str, who: Operator,
                            db: Db) -> care_customers.CustomerCare:
    return await care_customers.customer_care(pool=db, tenant_id=who.tenant_id,
                                              customer_id=resource_id(customer_id, "customer"))


@router.put("/customers/{customer_id}/hands-off", response_model=care_customers.CustomerCare)
async def put_hands_off(customer_id: str, body: HandsOffChange, who: Operator,
                        db: Db, now: Now) -> care_customers.CustomerCare:
    return await care_customers.set_hands_off(pool=db, tenant_id=who.tenant_id,
                                              customer_id=resource_id(customer_id, "customer"),
                                              enabled=body.enabled, actor=who.actor, now=now)


@router.put("/customers/{customer_id}/autonomy", response_model=care_customers.CustomerCare)
async def put_customer_mode(customer_id: str, body: CustomerModeChange, who: Admin,
                            db: Db, now: Now) -> care_customers.CustomerCare:
    return await care_customers.set_customer_mode(pool=db, tenant_id=who.tenant_id,
                                                  customer_id=resource_id(customer_id, "customer"),
                                                  mode=body.mode, actor=who.actor, now=now)
