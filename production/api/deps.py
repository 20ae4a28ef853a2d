"""Request-scoped access to what the lifespan built."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from production.database.pool import Pool

if TYPE_CHECKING:
    from production.api.app import ApiState


def state(request: Request) -> ApiState:
    fte: ApiState = request.app.state.fte
    return fte


async def pool(request: Request) -> Pool:
    """Async on purpose: FastAPI runs plain `def` dependencies in a thread pool."""
    db = state(request).pool
    if db is None:
        raise ConnectionError("the database pool is not ready")
    return db


def bearer(request: Request) -> str | None:
    """Return the credentials of an `Authorization: Bearer ...` header, if there is one."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    return None
