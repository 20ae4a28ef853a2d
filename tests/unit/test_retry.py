"""The start-up retry helper: retries what it is told to, gives up when it is told to."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from production.retry import until_ready, until_ready_blocking


class Flaky:
    """Fails with `error` the first `failures` calls, then answers "ready"."""

    def __init__(self, failures: int, error: type[Exception] = ConnectionError) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"not ready ({self.calls})")
        return "ready"

    async def attempt(self) -> str:
        return self()


async def test_a_dependency_that_comes_up_late_is_waited_for() -> None:
    flaky = Flaky(3)
    assert await until_ready("db", flaky.attempt, first_wait_s=0.001, max_wait_s=0.001) == "ready"
    assert flaky.calls == 4


async def test_it_gives_up_after_the_attempts_with_the_last_error() -> None:
    flaky = Flaky(10)
    with pytest.raises(ConnectionError, match=r"not ready \(3\)"):
        await until_ready("db", flaky.attempt, attempts=3, first_wait_s=0.001)
    assert flaky.calls == 3


async def test_an_error_it_is_not_told_to_retry_is_raised_at_once() -> None:
    flaky = Flaky(1, error=ValueError)
    with pytest.raises(ValueError):
        await until_ready("db", flaky.attempt, on=ConnectionError, first_wait_s=0.001)
    assert flaky.calls == 1


async def test_it_stops_retrying_once_the_process_is_asked_to_stop() -> None:
    stopping = asyncio.Event()
    flaky = Flaky(100)

    async def attempt() -> str:
        if flaky.calls == 2:
            stopping.set()
        return flaky()

    with pytest.raises(ConnectionError, match=r"\(3\)"):
        await until_ready("kafka", attempt, stopping=stopping, first_wait_s=0.001)
    assert flaky.calls == 3


async def test_it_gives_up_after_the_time_limit() -> None:
    flaky = Flaky(10**6)
    with pytest.raises(ConnectionError):
        await until_ready("kafka", flaky.attempt, within_s=0.05, first_wait_s=0.01,
                          max_wait_s=0.01, quiet=True)
    assert 2 <= flaky.calls < 10**6


def test_the_blocking_form_waits_the_same_way() -> None:
    flaky = Flaky(2, error=OSError)
    assert until_ready_blocking("port", flaky, on=OSError, first_wait_s=0.001,
                                quiet=True) == "ready"
    assert flaky.calls == 3
    with pytest.raises(OSError):
        until_ready_blocking("port", Flaky(5, error=OSError), on=OSError, attempts=2,
                             first_wait_s=0.001)


def test_each_retry_is_logged_with_what_is_awaited() -> None:
    with capture_logs() as logs:
        until_ready_blocking("database", Flaky(2), first_wait_s=0.001)
    assert [(e["event"], e["dependency"], e["attempt"], e["error"]) for e in logs] == [
        ("dependency_not_ready", "database", 1, "ConnectionError"),
        ("dependency_not_ready", "database", 2, "ConnectionError")]
    with capture_logs() as quiet:
        until_ready_blocking("port", Flaky(2), first_wait_s=0.001, quiet=True)
    assert quiet == []
