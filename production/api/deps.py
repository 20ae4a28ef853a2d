"""Request-scoped access to what the lifespan built."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from production import clock
from production.database.pool import Pool

if TYPE_CHECKING:
    from production.bootstrap import ApiState


def state(request: Request) -> ApiState:
    fte: ApiState = request.app.state.fte
    return fte


async def pool(request: Request) -> Pool:
    """Async on purpose: FastAPI runs plain `def` dependencies in a thread pool."""
    db = state(request).pool
    if db is None:
        raise ConnectionError("the database pool is not ready")
    return db


async def request_now() -> datetime:
    """Return the instant this request decides at: read once, so that every check and every
    row of the request (an expiry, an audit row, a proposal's decision) uses the same one."""
    return clock.now()


Db = Annotated[Pool, Depends(pool)]
Now = Annotated[datetime, Depends(request_now)]


def bearer(request: Request) -> str | None:
    """Return the credentials of an `Authorization: Bearer ...` header, if there is one."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    return None
