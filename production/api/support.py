"""POST /support/form: accept a web support request, within the limits per client address
and per email (RATE_LIMIT_FORM_PER_CLIENT, RATE_LIMIT_FORM_PER_SENDER)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response, status

from production.api.deps import Db, state
from production.api.limits import Limits
from production.domain.support_form import SupportFormReceipt, SupportFormSubmission
from production.services.intake import submit_support_form

router = APIRouter(prefix="/api/v1", tags=["support"])

ACK = "Thank you! Your request was received and our team is on it."
TOO_MANY = "too many support requests from {who}; try again later"


@router.post("/support/form", status_code=status.HTTP_201_CREATED,
             response_model=SupportFormReceipt, responses={
                 200: {"model": SupportFormReceipt,
                       "description": "A replay of an earlier submission (Idempotency-Key)"},
                 429: {"description": "Too many submissions from this address or email "
                                      "(see Retry-After)"}})
async def submit_form(
    form: SupportFormSubmission,
    request: Request,
    response: Response,
    db: Db,
    limited: Limits,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=8, max_length=200)
    ] = None,
) -> SupportFormReceipt:
    settings = state(request).settings
    if "web_form" not in settings.enabled_channels:
        raise HTTPException(status_code=404, detail="the web_form channel is not enabled")
    limits = limited.limits
    limited.take(limits.form_per_client, limited.client, TOO_MANY.format(who="this address"))
    limited.take(limits.form_per_sender, str(form.email).lower(),
                 TOO_MANY.format(who="this email address"))
    receipt = await submit_support_form(
        pool=db, tenant_id=settings.default_tenant, form=form, idempotency_key=idempotency_key,
        topic=settings.kafka.topic_incoming, links=state(request).ticket_links,
    )
    if receipt.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Cache-Control"] = "no-store"  # the token is the customer's alone
    return SupportFormReceipt(ticket_id=receipt.ticket_id, status="open", message=ACK,
                              created_at=receipt.created_at, access_token=receipt.access_token)
