"""Health: liveness (the process answers) and readiness (its dependencies answer).

Readiness is 503 when the database is gone (without it nothing can be accepted) and, at
start-up, until the worker's and the dispatcher's consumers hold their partitions (`starting`:
a customer accepted earlier would wait seconds for the reply; `fte up` prints its banner only
after). A broker outage (the outbox holds the work), a consumer group rebalancing after the
start, or a provider outage (its replies wait for their retries) leaves the API in rotation,
reported as `degraded` with the component that is down.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from production import __version__, clock
from production.api.deps import state
from production.config import ALL_CHANNELS, Settings
from production.database.pool import UNAVAILABLE_ERRORS, Pool, ping
from production.database.queries import delivery_retry

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    fte = state(request)
    database_ok = fte.pool is not None and await ping(fte.pool)
    kafka_ok = await fte.broker.reachable()
    channels = await channel_status(fte.settings, fte.pool) if database_ok else {}
    components: dict[str, object] = {"database": "up" if database_ok else "down",
                                     "kafka": "up" if kafka_ok else "down",
                                     "channels": channels}
    consumers_ok = True
    if fte.settings.api.ready_requires_consumers:
        consumers = await fte.broker.consumers()
        consumers_ok = all(consumers.values())
        components["consumers"] = {group: "up" if ok else ("rebalancing" if fte.broker.started
                                                           else "starting")
                                   for group, ok in consumers.items()}
    if not database_ok:
        overall, code = "unhealthy", 503
    elif not fte.broker.started and fte.settings.api.ready_requires_consumers:
        overall, code = "starting", 503
    elif not kafka_ok or not consumers_ok or "degraded" in channels.values():
        overall, code = "degraded", 200
    else:
        overall, code = "healthy", 200
    return JSONResponse(status_code=code, content={
        "status": overall,
        "components": components,
        "version": __version__,
        "timestamp": clock.now().isoformat(),
    })


async def channel_status(settings: Settings, pool: Pool | None) -> dict[str, str]:
    """Return each channel's state: up, degraded (its provider's breaker is not closed),
    sandbox (no credentials: replies are recorded, not sent) or disabled."""
    breakers = {}
    if pool is not None:
        try:
            async with pool.acquire() as conn:
                breakers = await delivery_retry.breaker_states(conn)
        except UNAVAILABLE_ERRORS:
            breakers = {}
    sandboxed = settings.sandboxed_channels()
    status: dict[str, str] = {}
    for channel in ALL_CHANNELS:
        breaker = breakers.get(channel)
        if channel not in settings.enabled_channels:
            status[channel] = "disabled"
        elif breaker is not None and breaker.state != "closed":
            status[channel] = "degraded"
        else:
            status[channel] = "sandbox" if channel in sandboxed else "up"
    return status
