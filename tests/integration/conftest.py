"""Fixtures shared by the integration tests (the session's servers and stack are in
tests/conftest.py): a stack of the module's own with an admin key, and the fake OpenAI API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from production.local_stack import EmbeddedPostgres, LocalBroker
from tests.conftest import Stack
from tests.fakes.openai_api import FakeOpenAI
from tests.integration.stacks import Auth, admin_stack


@pytest.fixture(scope="module")
async def stack_with_key(postgres: EmbeddedPostgres, broker: LocalBroker,
                         request: pytest.FixtureRequest) -> AsyncIterator[tuple[Stack, Auth]]:
    """The requesting module's own stack and admin header (admin_stack)."""
    tag = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    async with admin_stack(postgres, broker, tag) as running:
        yield running


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """The fake OpenAI API of one test (tests/fakes/openai_api.py)."""
    async with FakeOpenAI() as fake:
        yield fake
