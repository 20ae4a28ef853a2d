"""GET /tickets/{ticket_id}: a ticket's status and conversation, for its customer only;
POST /tickets/lookup: the customer's access token, for the ticket number and their email.

Ticket numbers are sequential, so a number opens nothing: reading needs the ticket's access
token (`Authorization: Bearer <token>` or `?token=`), or an operator key of its tenant. An
unknown ticket, a missing token and a wrong one get the same 404 after the same work, and each
such failure counts against the client's address: past the limit it is 429 with Retry-After.
Every read and lookup also counts against the client's address and the ticket (a lookup: the
email), whatever its outcome (RATE_LIMIT_TICKETS_PER_CLIENT, RATE_LIMIT_TICKETS_PER_SUBJECT).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from production.api.deps import Db, bearer, state
from production.api.limits import Limits, too_many
from production.domain.trimmed import at_least
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
    # Lengths are checked on the text as sent (what the schema says), then it is stripped.
    model_config = ConfigDict(extra="forbid")

    ticket_id: Annotated[str, StringConstraints(min_length=1, max_length=40),
                         AfterValidator(at_least(1))]
    email: Annotated[str, StringConstraints(min_length=1, max_length=320),
                     AfterValidator(at_least(1))]


class TicketAccess(BaseModel):
    ticket_id: str
    access_token: str


TOO_MANY = "too many ticket requests; try again later"
TOO_MANY_FAILED = "too many failed ticket lookups; try again later"


class TicketLimits:
    """The limits of a ticket read or lookup: requests per client address and per ticket
    (a lookup: per email), and failures per client address."""

    def __init__(self, limited: Limits) -> None:
        self._limited = limited
        self._failures = limited.limits.ticket_failures

    def check(self, subject: str) -> None:
        """Count the request; refuse it with 429 while the client or `subject` is over its
        limit, or the client has failed too often."""
        limited, limits = self._limited, self._limited.limits
        wait = self._failures.retry_after(limited.client, limited.now)
        if wait is not None:
            raise too_many(wait, TOO_MANY_FAILED)
        limited.take(limits.tickets_per_client, limited.client, TOO_MANY)
        limited.take(limits.tickets_per_subject, subject, TOO_MANY)

    def not_found(self) -> HTTPException:
        """Count a failure and return the 404 every failure answers."""
        self._failures.count(self._limited.client, self._limited.now)
        return HTTPException(status_code=404, detail=NOT_FOUND)


Limit = Annotated[TicketLimits, Depends(TicketLimits)]
_ANSWERS: dict[int | str, dict[str, str]] = {
    404: {"description": "No such ticket, or not the right credential (the same answer)"},
    429: {"description": "Too many requests or failed lookups from this address, or for this "
                         "ticket (see Retry-After)"},
}


@router.get("/tickets/{ticket_id}", response_model=TicketView, responses=_ANSWERS)
async def get_ticket(ticket_id: str, request: Request, response: Response, db: Db,
                     limit: Limit, token: str | None = None) -> TicketView:
    """Return the ticket's status and the messages its customer may see."""
    limit.check(f"ticket:{ticket_id.upper()[:40]}")
    presented = bearer(request) or token
    found: Conversation | None
    if presented is not None and admin_keys.well_formed(presented):
        principal = await admin_keys.authenticate(pool=db, presented=presented)
        found = (await ticket_access.open_as_operator(pool=db, tenant_id=principal.tenant_id,
                                                      number=ticket_id)
                 if principal is not None else None)
    else:
        found = await ticket_access.open_with_token(
            pool=db, tenant_id=state(request).settings.default_tenant, number=ticket_id,
            presented=presented)
    if found is None:
        raise limit.not_found()
    response.headers["Cache-Control"] = _PRIVATE
    return _view(found)


@router.post("/tickets/lookup", response_model=TicketAccess, responses=_ANSWERS)
async def lookup_ticket(lookup: TicketLookup, request: Request, response: Response, db: Db,
                        limit: Limit) -> TicketAccess:
    """Return the ticket's access token, given its number and the email it was opened with."""
    limit.check(f"email:{lookup.email.lower()}")
    fte = state(request)
    number = lookup.ticket_id.upper()
    token = await ticket_access.token_by_email(pool=db, links=fte.ticket_links,
                                               tenant_id=fte.settings.default_tenant, number=number,
                                               email=lookup.email)
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
                direction=row.direction,
                author="customer" if row.direction == "inbound" else "agent",
                channel=row.channel, content=row.content, created_at=row.created_at,
                delivered_at=row.delivered_at,
            )
            for row in found.messages
        ],
    )
