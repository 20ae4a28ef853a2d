"""What the FTE did: the tenant's audit timeline (in pages), daily digests and follow-up tasks."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from production.api.admin.auth import Operator, keyed_router
from production.api.admin.schemas import (
    Activity,
    AuditEntry,
    Digest,
    DigestListing,
    EventType,
    TaskListing,
    TaskView,
)
from production.api.deps import Db
from production.services import care_activity

router = keyed_router()


@router.get("/activity", response_model=Activity)
async def activity(
    who: Operator, db: Db,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    event_type: Annotated[EventType | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Activity:
    """The tenant's audit trail, newest first ("Autopilot did X": event_type=executed_action)."""
    rows = await care_activity.recent_activity(pool=db, tenant_id=who.tenant_id,
                                               before_id=before_id, event_type=event_type,
                                               limit=limit)
    more = len(rows) == limit
    return Activity(entries=[AuditEntry(**row) for row in rows],
                    next_before_id=rows[-1]["id"] if rows and more else None)


@router.get("/digests", response_model=DigestListing)
async def list_digests(who: Operator, db: Db,
                       limit: Annotated[int, Query(ge=1, le=366)] = 7) -> DigestListing:
    """The daily digests of what autopilot did, newest day first."""
    rows = await care_activity.digests(pool=db, tenant_id=who.tenant_id, limit=limit)
    return DigestListing(digests=[Digest(**row) for row in rows])


@router.get("/tasks", response_model=TaskListing)
async def list_tasks(
    who: Operator, db: Db,
    status: Annotated[Literal["open", "done"] | None, Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TaskListing:
    """The internal follow-up tasks (the scheduled runs' and people's), newest first."""
    rows = await care_activity.tasks(pool=db, tenant_id=who.tenant_id, status=status, limit=limit)
    return TaskListing(tasks=[TaskView(**row) for row in rows])
