"""The FastAPI app factory: the state `bootstrap.build_api` wires, whose pool the lifespan opens."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from production import __version__, bootstrap
from production.api import (
    admin,
    errors,
    gmail_webhook,
    health,
    limits,
    local_sign_in,
    ops_metrics,
    sandbox,
    support,
    tickets,
    web_app,
    whatsapp_webhook,
)
from production.config import Settings, get_settings
from production.database import pool
from production.database.pool import UNAVAILABLE_ERRORS
from production.logging import configure_logging
from production.metrics import HTTP_LATENCY, render

log = structlog.get_logger(__name__)

# Tries to open the pool at start-up, backing off from 0.2 s to 2 s between them.
START_ATTEMPTS = 31


def create_app_from_env() -> FastAPI:
    """The factory uvicorn imports in each API worker process."""
    settings = get_settings()
    configure_logging(settings.log_level, process="api")
    return create_app(settings)


def create_app(settings: Settings) -> FastAPI:
    state = bootstrap.build_api(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A database still starting is waited for (about a minute), then the start fails.
        state.pool = await bootstrap.open_pool(settings, on=UNAVAILABLE_ERRORS,
                                               attempts=START_ATTEMPTS)
        log.info("api_started", version=__version__)
        reporting = asyncio.create_task(pool.report(state.pool))
        try:
            yield
        finally:
            reporting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporting
            if state.pool is not None:
                await state.pool.close()

    app = FastAPI(title="Customer Success Digital FTE", version=__version__, lifespan=lifespan,
                  responses=errors.RESPONSES)
    app.state.fte = state
    app.include_router(support.router)
    app.include_router(tickets.router)
    app.include_router(whatsapp_webhook.router)
    app.include_router(gmail_webhook.router)
    app.include_router(health.router)
    app.include_router(sandbox.router)
    app.include_router(admin.router)
    app.include_router(ops_metrics.router)
    app.include_router(local_sign_in.router)
    # Inside the widget's CORS (installed next), so a browser can read a 413 too.
    app.add_middleware(limits.BodyLimit, max_bytes=settings.api.max_body_bytes)
    web_app.install(app, settings)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(render(), media_type=CONTENT_TYPE_LATEST)

    errors.install(app)
    app.add_middleware(LatencyMiddleware)
    return app




class LatencyMiddleware:
    """Pure ASGI middleware: observe every request's latency by route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            HTTP_LATENCY.labels(scope["method"], getattr(route, "path", "unmatched"),
                                str(status)).observe(time.perf_counter() - started)
