"""Health: liveness (the process answers) and readiness (its dependencies answer)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from production import __version__
from production.api.deps import state
from production.database.pool import ping

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    fte = state(request)
    database_ok = fte.pool is not None and await ping(fte.pool)
    kafka_ok = await fte.kafka_status()
    if not database_ok:
        overall, code = "unhealthy", 503
    elif not kafka_ok:
        # The API still accepts work (the outbox holds it), so it stays in rotation.
        overall, code = "degraded", 200
    else:
        overall, code = "healthy", 200
    return JSONResponse(status_code=code, content={
        "status": overall,
        "components": {"database": "up" if database_ok else "down",
                       "kafka": "up" if kafka_ok else "down"},
        "version": __version__,
        "timestamp": datetime.now(UTC).isoformat(),
    })
