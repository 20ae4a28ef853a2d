"""The FastAPI app factory. The lifespan owns the database pool and the Kafka health probe."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import structlog
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from production import __version__
from production.api import (
    admin,
    errors,
    gmail_webhook,
    health,
    sandbox,
    support,
    tickets,
    web_app,
    whatsapp_webhook,
)
from production.config import Settings, get_settings
from production.database.pool import UNAVAILABLE_ERRORS, Pool, create_pool
from production.domain.client_address import Network, parse_networks
from production.domain.failure_limit import FailureLimiter
from production.domain.ticket_access import TicketLinks
from production.logging import configure_logging
from production.messaging.kafka import broker_reachable, consumer_groups, groups_ready
from production.metrics import HTTP_LATENCY, render
from production.services import ticket_access

log = structlog.get_logger(__name__)


@dataclass
class ApiState:
    settings: Settings
    pool: Pool | None = None
    kafka_ok: bool = False
    kafka_checked_at: float = 0.0
    _kafka_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    consumers: dict[str, bool] = field(default_factory=dict)
    consumers_checked_at: float = 0.0
    # Once every consumer group was seen consuming, the stack has started: a later rebalance
    # is `degraded`, never `starting` again.
    started: bool = False
    _consumers_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Failed ticket reads and lookups per client address (this process's count).
    ticket_failures: FailureLimiter = field(init=False)
    trusted_proxies: list[Network] = field(init=False)
    ticket_links: TicketLinks = field(init=False)

    def __post_init__(self) -> None:
        tickets = self.settings.tickets
        self.ticket_failures = FailureLimiter(tickets.lookup_failures, tickets.lookup_window_s)
        self.trusted_proxies = parse_networks(self.settings.api.trusted_proxies)
        self.ticket_links = ticket_access.links_for(self.settings)

    async def kafka_status(self, *, max_age_s: float = 2.0) -> bool:
        """Return the broker's reachability, probing at most once per `max_age_s`."""
        async with self._kafka_lock:
            if time.monotonic() - self.kafka_checked_at > max_age_s:
                self.kafka_ok = await broker_reachable(self.settings)
                self.kafka_checked_at = time.monotonic()
            return self.kafka_ok

    async def consumer_status(self, *, max_age_s: float = 2.0) -> dict[str, bool]:
        """Return, per consumer group, whether it holds its partitions (groups_ready), asking
        the broker at most once per `max_age_s`, and every 0.2 s until the stack started."""
        async with self._consumers_lock:
            age = max_age_s if self.started else 0.2
            if time.monotonic() - self.consumers_checked_at > age:
                self.consumers = await groups_ready(self.settings,
                                                    consumer_groups(self.settings))
                self.consumers_checked_at = time.monotonic()
                self.started = self.started or all(self.consumers.values())
            return self.consumers


def create_app_from_env() -> FastAPI:
    """The factory uvicorn imports in each API worker process."""
    settings = get_settings()
    configure_logging(settings.log_level, process="api")
    return create_app(settings)


def create_app(settings: Settings) -> FastAPI:
    state = ApiState(settings=settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.pool = await _connect_with_retry(settings)
        log.info("api_started", version=__version__)
        try:
            yield
        finally:
            if state.pool is not None:
                await state.pool.close()

    app = FastAPI(title="Customer Success Digital FTE", version=__version__, lifespan=lifespan)
    app.state.fte = state
    app.include_router(support.router)
    app.include_router(tickets.router)
    app.include_router(whatsapp_webhook.router)
    app.include_router(gmail_webhook.router)
    app.include_router(health.router)
    app.include_router(sandbox.router)
    app.include_router(admin.router)
    web_app.install(app, settings)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(render(), media_type=CONTENT_TYPE_LATEST)

    errors.install(app)
    app.add_middleware(LatencyMiddleware)
    return app


async def _connect_with_retry(settings: Settings, attempts: int = 30) -> Pool:
    for attempt in range(1, attempts + 1):
        try:
            return await create_pool(settings)
        except UNAVAILABLE_ERRORS as exc:
            log.warning("database_unavailable_at_start", attempt=attempt, error=type(exc).__name__)
            await asyncio.sleep(min(0.2 * attempt, 2.0))
    return await create_pool(settings)


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
