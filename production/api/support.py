"""POST /support/form: accept a web support request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response, status

from production.api.deps import Db, state
from production.domain.support_form import SupportFormReceipt, SupportFormSubmission
from production.services.intake import submit_support_form

router = APIRouter(prefix="/api/v1", tags=["support"])

ACK = "Thank you! Your request was received and our team is on it."


@router.post("/support/form", status_code=status.HTTP_201_CREATED,
             response_model=SupportFormReceipt)
async def submit_form(
    form: SupportFormSubmission,
    request: Request,
    response: Response,
    db: Db,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=8, max_length=200)
    ] = None,
) -> SupportFormReceipt:
    settings = state(request).settings
    if "web_form" not in settings.enabled_channels:
        raise HTTPException(status_code=404, detail="the web_form channel is not enabled")
    receipt = await submit_support_form(
        db, tenant_id=settings.default_tenant, form=form, idempotency_key=idempotency_key,
        topic=settings.kafka.topic_incoming, links=state(request).ticket_links,
    )
    if receipt.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Cache-Control"] = "no-store"  # the token is the customer's alone
    return SupportFormReceipt(ticket_id=receipt.ticket_id, status="open", message=ACK,
                              created_at=receipt.created_at, access_token=receipt.access_token)
