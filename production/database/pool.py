"""The asyncpg pool every process shares; JSON columns come back as Python objects and pgvector's
`vector` travels in its binary form (pgvector.asyncpg's codec)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeAlias, cast

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pgvector.asyncpg import register_vector

from production.config import Settings
from production.metrics import POOL_IN_USE, POOL_MAX, POOL_SIZE, POOL_WAITING

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

# Errors that mean "this text cannot be stored": PostgreSQL's text holds no NUL character, and
# a string with an unpaired surrogate has no UTF-8 to send. The statement changed nothing.
UNSTORABLE_TEXT_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.exceptions.CharacterNotInRepertoireError,
    asyncpg.exceptions.UntranslatableCharacterError,
    UnicodeEncodeError,
)


class PooledConnection(asyncpg.Connection):
    """A pool's connection, which knows whether it has the `vector` codec yet."""

    __slots__ = ("_has_vector",)

    async def ensure_vector_codec(self) -> None:
        """Register pgvector's binary codec unless done; skipped (and tried again at the next
        acquire) while the database has no `vector` type: a pool may open before the
        migration that creates the extension has run."""
        if getattr(self, "_has_vector", False):
            return
        try:
            await register_vector(self)
        except ValueError as exc:  # "unknown type: public.vector"
            if not str(exc).startswith("unknown type"):
                raise
            return
        self._has_vector = True


async def _init_connection(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
    await cast(PooledConnection, conn).ensure_vector_codec()  # the pool's connection_class


async def _on_acquire(conn: PoolConnectionProxy[asyncpg.Record]) -> None:
    """Register the vector codec on a connection that opened before the extension existed
    (an attribute test, no round trip, once it is registered)."""
    # The proxy hands attribute reads to its connection, a PooledConnection.
    await cast(PooledConnection, conn).ensure_vector_codec()


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
        setup=_on_acquire,
        reset=_keep_session,
        connection_class=PooledConnection,
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


def observe(pool: Pool) -> None:
    """Publish the pool's size, its ceiling, the connections borrowed and the tasks waiting."""
    size = pool.get_size()
    POOL_SIZE.set(size)
    POOL_MAX.set(pool.get_max_size())
    POOL_IN_USE.set(size - pool.get_idle_size())
    # asyncpg has no public count of waiters: they are the futures its holder queue keeps.
    getters = getattr(getattr(pool, "_queue", None), "_getters", None) or ()
    POOL_WAITING.set(sum(not waiter.done() for waiter in getters))


async def report(pool: Pool, *, interval_s: float = 1.0) -> None:
    """Observe the pool every `interval_s` until cancelled."""
    while True:
        observe(pool)
        await asyncio.sleep(interval_s)
