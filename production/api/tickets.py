"""GET /tickets/{ticket_id}: status and the customer-visible conversation."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from production.api.deps import pool, state
from production.database.pool import Pool
from production.database.queries import messages, tickets

router = APIRouter(prefix="/api/v1", tags=["tickets"])

_TICKET = re.compile(r"^TKT-\d{1,12}$")


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


@router.get("/tickets/{ticket_id}", response_model=TicketView)
async def get_ticket(ticket_id: str, request: Request,
                     db: Annotated[Pool, Depends(pool)]) -> TicketView:
    if not _TICKET.match(ticket_id):
        raise HTTPException(status_code=404, detail="no such ticket")
    tenant_id = state(request).settings.default_tenant
    async with db.acquire() as conn:
        ticket = await tickets.get_by_number(conn, tenant_id, ticket_id)
        if ticket is None:
            raise HTTPException(status_code=404, detail="no such ticket")
        rows = await messages.visible_for_ticket(conn, tenant_id, ticket["id"])
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
            for row in rows
        ],
    )
