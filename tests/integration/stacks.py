"""Stacks a test module runs on its own: the whole product on a database and topics of their
own (the session's shared stack is tests/conftest.py's `stack`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from production.database.pool import create_pool
from production.local_stack import EmbeddedPostgres, LocalBroker
from production.services import admin_keys
from tests.conftest import Stack, isolated_settings, running_stack

Auth = dict[str, str]  # an Authorization header


@contextlib.asynccontextmanager
async def admin_stack(postgres: EmbeddedPostgres, broker: LocalBroker, tag: str,
                      **changes: Any) -> AsyncIterator[tuple[Stack, Auth]]:
    """Run the API, worker, dispatcher and relay on a database and topics of their own, with
    an admin key of techcorp's; yield the stack and the key's Authorization header.
    `changes` replace groups of the settings (`openai=OpenAISettings(...)`)."""
    settings = await isolated_settings(postgres, broker, tag)
    settings = settings.model_copy(update=changes)
    pool = await create_pool(settings, min_size=1, max_size=8)
    try:
        _, key = await admin_keys.create_key(pool=pool, tenant_id="techcorp", role="admin",
                                             name="ops-lead")
        async with running_stack(settings, pool) as stack:
            yield stack, {"Authorization": f"Bearer {key}"}
    finally:
        await pool.close()
