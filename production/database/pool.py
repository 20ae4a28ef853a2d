"""The asyncpg pool every process shares; JSON columns come back as Python objects."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from production.config import Settings

Pool = asyncpg.Pool
# A bare connection or one borrowed from the pool: queries accept either.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

# Errors that mean "the database is not reachable right now", not "this statement is wrong".
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)
# Unreachable, or refusing for a moment (a watcher that only reads waits both out).
UNAVAILABLE_OR_REFUSED: tuple[type[BaseException], ...] = (*UNAVAILABLE_ERRORS,
                                                           asyncpg.PostgresError)


async def _init_connection(conn: Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _keep_session(conn: Connection) -> None:
    """Skip asyncpg's per-release reset round trip (unlock all, CLOSE ALL, UNLISTEN, RESET ALL).

    Nothing here changes session state: no SET, LISTEN or cursors, and advisory locks are
    transaction-level (released at commit) except the relay's leadership lock, which the relay
    unlocks before it returns its connection. asyncpg still rolls back any transaction left
    open before the connection goes back to the pool.
    """


async def create_pool(settings: Settings, *, min_size: int | None = None,
                      max_size: int | None = None) -> Pool:
    """Return a connected pool for the configured database."""
    db = settings.database
    pool: Pool = await asyncpg.create_pool(
        settings.database_url(),
        min_size=db.pool_min_size if min_size is None else min_size,
        max_size=db.pool_max_size if max_size is None else max_size,
        command_timeout=db.command_timeout_s,
        timeout=db.connect_timeout_s,
        init=_init_connection,
        reset=_keep_session,
        # A placeholder until the vector extension loads in the session, which then adopts it.
        server_settings={"hnsw.ef_search": str(db.hnsw_ef_search)},
    )
    return pool


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[Connection]:
    """Yield a connection of its own, outside the pool, closed on exit: each statement on it
    commits at once, whatever a pooled transaction of the same task does later."""
    db = settings.database
    conn = await asyncpg.connect(settings.database_url(), timeout=db.connect_timeout_s,
                                 command_timeout=db.command_timeout_s)
    try:
        yield conn
    finally:
        await conn.close()


async def ping(pool: Pool, *, within_s: float = 1.0) -> bool:
    """Return True when a trivial query answers within the time limit."""
    try:
        async with pool.acquire(timeout=within_s) as conn:
            value: Any = await conn.fetchval("SELECT 1", timeout=within_s)
            return bool(value == 1)
    except Exception:
        return False
