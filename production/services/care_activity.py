"""What C.A.R.E. did, for the control plane: the tenant's audit trail (the export, in pages,
and the console's timeline), its daily digests and internal follow-up tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from production.database.pool import Pool
from production.database.queries import admin as queries
from production.database.queries import care_schedule

EXPORT_PAGE_SIZE = 1000

AUDIT_COLUMNS = tuple(column.name for column in fields(queries.AuditEntry))


async def audit_pages(*, pool: Pool, tenant_id: str, since: datetime | None,
                      until: datetime | None, event_type: str | None,
                      page_size: int = EXPORT_PAGE_SIZE) -> AsyncIterator[list[dict[str, Any]]]:
    """Yield the tenant's audit rows in id order, a page at a time (keyset paging, each page on
    a connection borrowed only for its query)."""
    after_id = 0
    while True:
        async with pool.acquire() as conn:
            rows = await queries.audit_page(conn, tenant_id, after_id=after_id, since=since,
                                            until=until, event_type=event_type, limit=page_size)
        if not rows:
            return
        yield [asdict(row) for row in rows]
        if len(rows) < page_size:
            return
        after_id = rows[-1].id


async def recent_activity(*, pool: Pool, tenant_id: str, before_id: int | None,
                          event_type: str | None, limit: int) -> list[dict[str, Any]]:
    """Return the tenant's latest audit rows, newest first (the console's timeline)."""
    async with pool.acquire() as conn:
        rows = await queries.audit_recent(conn, tenant_id, before_id=before_id,
                                          event_type=event_type, limit=limit)
    return [asdict(row) for row in rows]


async def digests(*, pool: Pool, tenant_id: str, limit: int) -> list[dict[str, Any]]:
    """Return the tenant's daily digests, newest first."""
    async with pool.acquire() as conn:
        rows = await care_schedule.digests(conn, tenant_id, limit=limit)
    return [asdict(row) for row in rows]


async def tasks(*, pool: Pool, tenant_id: str, status: str | None,
                limit: int) -> list[dict[str, Any]]:
    """Return the tenant's internal follow-up tasks, newest first."""
    async with pool.acquire() as conn:
        rows = await care_schedule.tasks(conn, tenant_id, status=status, limit=limit)
    return [asdict(row) for row in rows]
