"""The approval inbox: the tenant's proposals, and an operator's approval, edit or rejection of
one (`care.inbox` decides and releases; a second decision or a late one is 409)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request

from production.api.admin.auth import Operator, keyed_router, resource_id
from production.api.admin.schemas import (
    Edit,
    ProposalListing,
    ProposalStatus,
    ProposalView,
    Rejection,
)
from production.api.deps import Db, Now, state
from production.care import inbox

router = keyed_router()


@router.get("/proposals", response_model=ProposalListing)
async def list_proposals(
    who: Operator, db: Db, now: Now,
    status: Annotated[ProposalStatus | None, Query()] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ProposalListing:
    """The tenant's proposals of a status (pending by default), oldest first."""
    rows = await inbox.proposals(pool=db, tenant_id=who.tenant_id, status=status, limit=limit,
                                 now=now)
    return ProposalListing(proposals=[ProposalView(**row) for row in rows])


@router.post("/proposals/{proposal_id}/approve", response_model=inbox.Decided)
async def approve_proposal(request: Request, proposal_id: str, who: Operator,
                           db: Db, now: Now) -> inbox.Decided:
    return await inbox.approve(pool=db, settings=state(request).settings, tenant_id=who.tenant_id,
                               proposal_id=resource_id(proposal_id, "proposal"), operator=who.name,
                               now=now)


@router.post("/proposals/{proposal_id}/edit", response_model=inbox.Decided)
async def edit_proposal(request: Request, proposal_id: str, body: Edit, who: Operator,
                        db: Db, now: Now) -> inbox.Decided:
    """Replace the draft's text, then approve it."""
    return await inbox.approve(pool=db, settings=state(request).settings, tenant_id=who.tenant_id,
                               proposal_id=resource_id(proposal_id, "proposal"), operator=who.name,
                               text=body.text, now=now)


@router.post("/proposals/{proposal_id}/reject", response_model=inbox.Decided)
async def reject_proposal(proposal_id: str, body: Rejection, who: Operator,
                          db: Db, now: Now) -> inbox.Decided:
    return await inbox.reject(pool=db, tenant_id=who.tenant_id,
                              proposal_id=resource_id(proposal_id, "proposal"), operator=who.name,
                              reason=body.reason, now=now)
