"""Session fixtures: a real PostgreSQL and a real Kafka-protocol broker on free loopback ports,
and the product's own processes (API on a real HTTP port, worker, dispatcher, relay) running
in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from production import bootstrap, clock, settings_env
from production.api.app import create_app
from production.bootstrap import Process, Runtime
from production.config import (
    CareSettings,
    DatabaseSettings,
    KafkaSettings,
    RateLimitSettings,
    ReliabilitySettings,
    SchedulerSettings,
    Settings,
    TicketSettings,
)
from production.database.migrate import migrate
from production.database.pool import Pool, create_pool
from production.embeddings import local_embedder
from production.local_stack import EmbeddedPostgres, LocalBroker, free_port
from production.messaging.kafka import ensure_topics
from production.services import care_admin, ticket_access
from production.services.knowledge import load_markdown

ROOT = Path(__file__).resolve().parent.parent


def _check_fake_clock(server: EmbeddedPostgres, expected: str) -> None:
    """Under `make test-clock` (FTE_FAKE_CLOCK set), fail unless both this process and
    PostgreSQL read the fake clock: a run that did not reach the database proves nothing."""
    import asyncpg

    start = datetime.fromisoformat(expected.replace(" UTC", "+00:00"))

    async def database_now() -> datetime:
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{server.port}/postgres")
        try:
            moment: datetime = await conn.fetchval("SELECT now()")
            return moment
        finally:
            await conn.close()

    for name, seen in (("python", clock.now()), ("postgres", asyncio.run(database_now()))):
        if not start <= seen < start + timedelta(hours=1):
            raise AssertionError(f"FTE_FAKE_CLOCK is {expected} but {name} reads {seen}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[EmbeddedPostgres]:
    with tempfile.TemporaryDirectory(prefix="fte-pg-") as tmp:
        os.chmod(tmp, 0o755)
        server = EmbeddedPostgres(Path(tmp) / "pgdata")
        server.start()
        try:
            if expected := os.environ.get("FTE_FAKE_CLOCK"):
                _check_fake_clock(server, expected)
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalBroker]:
    server = LocalBroker()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def make_settings(postgres: EmbeddedPostgres, broker: LocalBroker, *, autonomy: bool = True,
                  **topics: str) -> Settings:
    return Settings(
        app_env="test",
        metrics_port=0,
        database=DatabaseSettings(url=postgres.url, pool_max_size=10),
        kafka=KafkaSettings(bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False,
                            **topics),
        care=CareSettings(autonomy_enabled=autonomy, shadow_mode=not autonomy),
        reliability=ReliabilitySettings(backoff_initial_s=0.01, backoff_max_s=0.05,
                                        sweeper_deadline_s=2.0, sweeper_interval_s=0.5,
                                        relay_poll_interval_s=0.05),
        scheduler=SchedulerSettings(interval_s=0.2, housekeeping_interval_s=1.0),
        # The session's tests all call from 127.0.0.1 and many expect 404s: the failed-lookup
        # limit has tests of its own (tests/integration/test_ticket_access.py).
        tickets=TicketSettings(lookup_failures=100_000),
        # Likewise the request limits (tests/integration/test_abuse_limits.py has their tests).
        rate_limit=RateLimitSettings(form_per_client=100_000, form_per_sender=100_000,
                                     tickets_per_client=100_000, tickets_per_subject=100_000),
    )


@pytest.fixture(scope="session")
async def settings(postgres: EmbeddedPostgres, broker: LocalBroker) -> Settings:
    built = make_settings(postgres, broker)
    await migrate(postgres.url)
    await ensure_topics(built)
    return built


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[Pool]:
    db = await create_pool(settings, min_size=1, max_size=10)
    await load_markdown(pool=db, tenant_id="techcorp", path=ROOT / "context" / "product-docs.md",
                        embedder=local_embedder())
    await care_admin.opt_in_local_demo(pool=db, settings=settings, tenant_id="techcorp",
                                       now=clock.now())
    yield db
    await db.close()


@pytest.fixture
def now() -> datetime:
    """The instant a test decides at: the wall clock when it starts. A test that needs
    "later" passes a later instant down (never sleeps); one that needs a given day passes an
    instant of that day, whatever the date the suite runs on."""
    return clock.now()


@dataclass
class Stack:
    settings: Settings
    pool: Pool
    base_url: str
    producer: AIOKafkaProducer
    http: httpx.AsyncClient


async def _serve_api(settings: Settings, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    api_settings = settings.model_copy(update={"api": settings.api.model_copy(
        update={"port": port})})
    config = uvicorn.Config(create_app(api_settings), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False, lifespan="on",
                            proxy_headers=False)  # as `fte api` runs it
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    return server, task


@contextlib.asynccontextmanager
async def api_alone(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Serve the API alone (no workers) on these settings; yield a client of it."""
    server, task = await _serve_api(settings, port := free_port())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield http
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def running_stack(settings: Settings, pool: Pool, *, workers: bool = True
                        ) -> AsyncIterator[Stack]:
    """Run the API, worker, dispatcher, relay and scheduler in this event loop until the block
    ends, each wired by `bootstrap` as its own process is, and stopped on its own."""
    producer = await bootstrap.start_producer(settings)
    port = free_port()
    server, api_task = await _serve_api(settings, port)
    processes: list[Process] = []
    if workers:
        def runtime() -> Runtime:
            return Runtime(settings=settings, pool=pool, producer=producer,
                           stopping=asyncio.Event())

        processes = [bootstrap.build_worker(runtime(), embedder=local_embedder()),
                     bootstrap.build_dispatcher(runtime(), retry_interval_s=0.1),
                     bootstrap.build_relay(runtime()), bootstrap.build_scheduler(runtime())]
        for process in processes:
            await process.start()
    tasks = [asyncio.create_task(process.run()) for process in processes]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        try:
            yield Stack(settings, pool, f"http://127.0.0.1:{port}", producer, http)
        finally:
            for process in processes:
                process.stopping.set()
            for task in tasks:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 10)
            for process in processes:
                await process.stop()
            server.should_exit = True
            await api_task
            await producer.stop()


@pytest.fixture(scope="session")
async def stack(settings: Settings, pool: Pool) -> AsyncIterator[Stack]:
    async with running_stack(settings, pool) as running:
        yield running


# The status page link in an email or WhatsApp reply: its ticket and the token in its fragment.
STATUS_LINK = re.compile(r"/support/tickets/(TKT-\d+)#token=(tkt_[A-Za-z0-9_-]{43})")


def status_link(text: str) -> tuple[str, str]:
    """Return the (ticket, token) of the one status link in a reply's text."""
    [found] = STATUS_LINK.findall(text)
    return found[0], found[1]


async def read_ticket(http: httpx.AsyncClient, ticket: str, token: str) -> httpx.Response:
    """GET the ticket as its customer does, with its access token."""
    return await http.get(f"/api/v1/tickets/{ticket}",
                          headers={"Authorization": f"Bearer {token}"})


async def ticket_token(stack: Stack, ticket: str) -> str:
    """Return the ticket's access token as the server issues it (the one its customer holds:
    from the form's answer, a reply's link or a lookup by number and email)."""
    async with stack.pool.acquire() as conn:
        return await ticket_access.issue_for(conn, ticket_access.links_for(settings=stack.settings),
                                             stack.settings.default_tenant, ticket)


async def as_customer(stack: Stack, ticket: str) -> httpx.Response:
    """GET the ticket with its customer's access token."""
    return await read_ticket(stack.http, ticket, await ticket_token(stack, ticket))


def unique_email(prefix: str = "customer") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@example.com"


def form(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "Ada Lovelace",
        "email": unique_email(),
        "subject": "Cannot reset my password",
        "category": "account",
        "priority": "medium",
        "message": "Hello, how do I reset my password? The reset email never arrives.",
    }
    body.update(overrides)
    return body


async def wait_for(predicate, timeout_s: float = 10.0, interval_s: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll an async predicate until it returns something truthy; return that value."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(interval_s)


async def wait_until_healthy(http: httpx.AsyncClient, timeout_s: float = 30.0) -> None:
    """Wait until the API at `http` answers its health check with 200."""
    async def healthy() -> bool:
        try:
            return (await http.get("/api/v1/health")).status_code == 200
        except httpx.TransportError:
            return False

    await wait_for(healthy, timeout_s=timeout_s, interval_s=0.2)


async def isolated_settings(postgres: EmbeddedPostgres, broker: LocalBroker, tag: str, *,
                            autonomy: bool = True) -> Settings:
    """A fresh, migrated database and its own topics and consumer groups on the shared servers."""
    import asyncpg

    name = f"fte_{tag}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = f"postgresql://postgres@127.0.0.1:{postgres.port}/{name}"
    built = make_settings(postgres, broker, autonomy=autonomy,
                          topic_incoming=f"{name}.incoming", topic_outgoing=f"{name}.outgoing",
                          topic_dlq=f"{name}.dlq", worker_group=f"{name}-worker",
                          dispatcher_group=f"{name}-dispatcher")
    built.database.url = SecretStr(url)
    await migrate(url)
    await ensure_topics(built)
    db = await create_pool(built, min_size=1, max_size=1)
    try:
        await load_markdown(pool=db, tenant_id="techcorp",
                            path=ROOT / "context" / "product-docs.md", embedder=local_embedder())
        if autonomy:  # as `fte up` does, unless --observe-only
            await care_admin.opt_in_local_demo(pool=db, settings=built, tenant_id="techcorp",
                                               now=clock.now())
    finally:
        await db.close()
    return built


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a subprocess needs to run `fte <cmd>` against these settings (as
    `fte up` gives its children theirs), quiet, with the sweeper's deadline of a subprocess."""
    quiet = {"METRICS_PORT": "0", "LOG_LEVEL": "WARNING", "FTE_SWEEPER_DEADLINE_S": "3",
             "FTE_SWEEPER_INTERVAL_S": "0.5"}
    return settings_env.child_env(settings, **{**quiet, **extra})
