"""GET /api/v1/sandbox/messages: what the FTE would have sent on channels without credentials.

Without Gmail or Twilio credentials, replies on those channels are recorded instead of sent, so
a newcomer sees what would have gone out, ticket link included. The listing is a local-dev tool
that serves customers' replies unauthenticated, so it exists only outside production and only
for a channel that is in the sandbox (enabled, without credentials): everywhere else it is 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from production.api.deps import Db, state
from production.database.queries import deliveries
from production.services import ticket_access

router = APIRouter(prefix="/api/v1", tags=["sandbox"])


class SandboxMessage(BaseModel):
    message_id: str
    channel: str
    recipient: str | None
    subject: str | None
    body: str
    ticket_id: str | None
    created_at: datetime


class SandboxListing(BaseModel):
    messages: list[SandboxMessage]


@router.get("/sandbox/messages", response_model=SandboxListing)
async def sandbox_messages(
    request: Request, db: Db,
    channel: Annotated[Literal["email", "whatsapp"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SandboxListing:
    """List the newest sandboxed replies, newest first."""
    fte = state(request)
    settings = fte.settings
    if settings.app_env == "prod":
        raise HTTPException(status_code=404, detail="the sandbox listing is off in production")
    sandboxed = settings.sandboxed_channels()
    if not sandboxed or (channel is not None and channel not in sandboxed):
        raise HTTPException(status_code=404, detail="no channel is in the sandbox here"
                            if not sandboxed else f"the {channel} channel is not in the sandbox")
    tenant_id = settings.default_tenant
    async with db.acquire() as conn:
        rows = await deliveries.sandboxed(conn, tenant_id, channel=channel, limit=limit)
    return SandboxListing(messages=[
        SandboxMessage(message_id=str(r.message_id), channel=r.channel,
                       recipient=r.recipient, subject=r.subject,
                       body=ticket_access.as_sent(fte.ticket_links, tenant_id, r),
                       ticket_id=r.ticket_number, created_at=r.created_at)
        for r in rows if r.channel in sandboxed
    ])
