"""The audit export: the tenant's whole trail in id order, streamed page by page as JSON lines or
CSV (a header row first), so an export of any size holds one page in memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import structlog
from fastapi import Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse

from production.api.admin.auth import Operator, keyed_router
from production.api.admin.schemas import EventType
from production.api.deps import Db
from production.services import care_activity

log = structlog.get_logger(__name__)

router = keyed_router()


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps({key: _cell(value) for key, value in row.items()},
                              ensure_ascii=False) + "\n" for row in rows)


def _csv(rows: list[dict[str, Any]], *, header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(care_activity.AUDIT_COLUMNS)
    for row in rows:
        writer.writerow([json.dumps(value, ensure_ascii=False) if key == "payload"
                         else "" if value is None else _cell(value)
                         for key, value in row.items()])
    return buffer.getvalue()


def _utc(value: datetime | None) -> datetime | None:
    """A time without a zone is read as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@router.get("/audit/export")
async def export_audit(
    who: Operator, db: Db,
    fmt: Annotated[Literal["jsonl", "csv"], Query(alias="format")] = "jsonl",
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    event_type: Annotated[EventType | None, Query()] = None,
) -> StreamingResponse:
    """Stream the tenant's audit trail in id order as JSON lines or CSV (header row first)."""
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and since >= until:
        raise RequestValidationError([{"loc": ("query", "until"), "msg": "must be after since",
                                       "type": "value_error"}])
    pages = care_activity.audit_pages(pool=db, tenant_id=who.tenant_id, since=since, until=until,
                                      event_type=event_type)

    async def body() -> AsyncIterator[str]:
        if fmt == "csv":
            yield _csv([], header=True)
        async for page in pages:
            yield _jsonl(page) if fmt == "jsonl" else _csv(page, header=False)

    log.info("care_audit_exported", tenant_id=who.tenant_id, format=fmt, actor=who.actor)
    media = "application/x-ndjson" if fmt == "jsonl" else "text/csv; charset=utf-8"
    return StreamingResponse(body(), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="care-audit-{who.tenant_id}.{fmt}"'})
