"""A fresh, migrated embedded PostgreSQL for a benchmark, and a pool on it."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from pydantic import SecretStr

from production.config import Settings
from production.database.migrate import migrate
from production.database.pool import Pool, create_pool
from production.local_stack import EmbeddedPostgres


@asynccontextmanager
async def scratch_pool(prefix: str, *, max_size: int = 2) -> AsyncIterator[Pool]:
    """Start PostgreSQL in a temporary folder, migrate it, yield a pool; remove it all after."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        postgres = EmbeddedPostgres(Path(tmp) / "pgdata")
        await asyncio.to_thread(postgres.start)  # blocking: waits for the server to answer
        try:
            settings = Settings()
            settings.database.url = SecretStr(postgres.url)
            await migrate(postgres.url)
            pool = await create_pool(settings, min_size=1, max_size=max_size)
            try:
                yield pool
            finally:
                await pool.close()
        finally:
            await asyncio.to_thread(postgres.stop)
