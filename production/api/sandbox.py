"""GET /api/v1/sandbox/messages: what the FTE would have sent on channels without credentials.

Without Gmail or Twilio credentials, replies on those channels are recorded in full instead of
sent, so a newcomer sees what would have gone out. The listing exists outside production only:
in production the channels have credentials, and customers' messages are not served unauthenticated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from production.api.deps import pool, state
from production.database.pool import Pool
from production.database.queries import deliveries

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
    request: Request, db: Annotated[Pool, Depends(pool)],
    channel: Annotated[Literal["email", "whatsapp"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SandboxListing:
    """List the newest sandboxed replies, newest first."""
    settings = state(request).settings
    if settings.app_env == "prod":
        raise HTTPException(status_code=404, detail="the sandbox listing is off in production")
    async with db.acquire() as conn:
        rows = await deliveries.sandboxed(conn, settings.default_tenant, channel=channel,
                                          limit=limit)
    return SandboxListing(messages=[
        SandboxMessage(message_id=str(r["message_id"]), channel=r["channel"],
                       recipient=r["recipient"], subject=r["subject"], body=r["body"],
                       ticket_id=r["ticket_number"], created_at=r["created_at"])
        for r in rows
    ])
