"""GET /tickets/{ticket_id}: a ticket's status and conversation, for its customer only;
POST /tickets/lookup: the customer's access token, for the ticket number and their email.

Ticket numbers are sequential, so a number opens nothing: reading needs the ticket's access
token (`Authorization: Bearer <token>` or `?token=`), or an operator key of its tenant. An
unknown ticket, a missing token and a wrong one get the same 404 after the same work, and each
such failure counts against the client's address: past the limit it is 429 with Retry-After.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from production.api.deps import Db, bearer, state
from production.domain.client_address import client_address
from production.services import admin_keys, ticket_access
from production.services.ticket_access import Conversation

router = APIRouter(prefix="/api/v1", tags=["tickets"])

NOT_FOUND = "no such ticket"
# Conversations and tokens are the customer's: no shared cache may keep them.
_PRIVATE = "no-store"


class ConversationEntry(BaseModel):
    direction: str
    author: str
    channel: str
    content: str
    created_at: datetime
    delivered_at: datetime | None = None


class TicketView(BaseModel):
    ticket_id: str
    status: str
    category: str
    priority: str
    channel: str
    subject: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    messages: list[ConversationEntry]


class TicketLookup(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    ticket_id: str = Field(min_length=1, max_length=40)
    email: str = Field(min_length=1, max_length=320)


class TicketAccess(BaseModel):
    ticket_id: str
    access_token: str


class FailedLookups:
    """The failure limit of the client a request came from."""

    def __init__(self, request: Request) -> None:
        fte = state(request)
        self._limiter = fte.ticket_failures
        self._client = client_address(request.client.host if request.client else None,
                                      request.headers.get("x-forwarded-for"),
                                      fte.trusted_proxies)

    def check(self) -> None:
        """Refuse the request with 429 while the client is over the limit."""
        wait = self._limiter.retry_after(self._client, time.monotonic())
        if wait is not None:
            raise HTTPException(status_code=429,
                                detail="too many failed ticket lookups; try again later",
                                headers={"Retry-After": str(math.ceil(wait))})

    def not_found(self) -> HTTPException:
        """Count a failure and return the 404 every failure answers."""
        self._limiter.failed(self._client, time.monotonic())
        return HTTPException(status_code=404, detail=NOT_FOUND)


Limit = Annotated[FailedLookups, Depends(FailedLookups)]
_ANSWERS: dict[int | str, dict[str, str]] = {
    404: {"description": "No such ticket, or not the right credential (the same answer)"},
    429: {"description": "Too many failed lookups from this address (see Retry-After)"},
}


@router.get("/tickets/{ticket_id}", response_model=TicketView, responses=_ANSWERS)
async def get_ticket(ticket_id: str, request: Request, response: Response, db: Db,
                     limit: Limit, token: str | None = None) -> TicketView:
    """Return the ticket's status and the messages its customer may see."""
    limit.check()
    presented = bearer(request) or token
    found: Conversation | None
    if presented is not None and admin_keys.well_formed(presented):
        principal = await admin_keys.authenticate(pool=db, presented=presented)
        found = (await ticket_access.open_as_operator(db, principal.tenant_id, ticket_id)
                 if principal is not None else None)
    else:
        found = await ticket_access.open_with_token(db, state(request).settings.default_tenant,
                                                    ticket_id, presented)
    if found is None:
        raise limit.not_found()
    response.headers["Cache-Control"] = _PRIVATE
    return _view(found)


@router.post("/tickets/lookup", response_model=TicketAccess, responses=_ANSWERS)
async def lookup_ticket(lookup: TicketLookup, request: Request, response: Response, db: Db,
                        limit: Limit) -> TicketAccess:
    """Return the ticket's access token, given its number and the email it was opened with."""
    limit.check()
    fte = state(request)
    number = lookup.ticket_id.upper()
    token = await ticket_access.token_by_email(db, fte.ticket_links, fte.settings.default_tenant,
                                               number, lookup.email)
    if token is None:
        raise limit.not_found()
    response.headers["Cache-Control"] = _PRIVATE
    return TicketAccess(ticket_id=number, access_token=token)


def _view(found: Conversation) -> TicketView:
    ticket = found.ticket
    return TicketView(
        ticket_id=ticket["ticket_number"], status=ticket["status"], category=ticket["category"],
        priority=ticket["priority"], channel=ticket["source_channel"], subject=ticket["subject"],
        created_at=ticket["created_at"], updated_at=ticket["updated_at"],
        resolved_at=ticket["resolved_at"],
        messages=[
            ConversationEntry(
                direction=row["direction"],
                author="customer" if row["direction"] == "inbound" else "agent",
                channel=row["channel"], content=row["content"], created_at=row["created_at"],
                delivered_at=row["delivered_at"],
            )
            for row in found.messages
        ],
    )
