"""What every long-running process does around its work: signals, the metrics endpoint, the
pool and the producer (waited for while they start), then start, run and stop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import structlog
from prometheus_client import start_http_server

from production import bootstrap
from production.bootstrap import Process, Runtime
from production.config import Settings
from production.database import pool

log = structlog.get_logger(__name__)


@asynccontextmanager
async def runtime(settings: Settings, *, name: str) -> AsyncIterator[Runtime]:
    """Yield a ready pool and producer; SIGTERM/SIGINT set `stopping` for a clean exit."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr="0.0.0.0")
    db = await bootstrap.open_pool(settings, min_size=1, stopping=stopping)
    try:
        producer = await bootstrap.start_producer(settings, stopping=stopping)
    except BaseException:
        await db.close()
        raise
    log.info("process_started", name=name)
    try:
        yield Runtime(settings=settings, pool=db, producer=producer, stopping=stopping)
    finally:
        await producer.stop()
        await db.close()
        log.info("process_stopped", name=name)


async def serve(process: Process) -> None:
    """Start the process, run it until it stops, then leave its consumer groups."""
    await process.start()
    try:
        await process.run()
    finally:
        await process.stop()


async def run(settings: Settings, name: str, build: Callable[[Runtime], Process]) -> None:
    """Connect, build the process with `build`, and serve it until SIGTERM or SIGINT (its
    pool's use published meanwhile)."""
    async with runtime(settings, name=name) as rt:
        reporting = asyncio.create_task(pool.report(rt.pool))
        try:
            await serve(build(rt))
        finally:
            reporting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporting
