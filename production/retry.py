"""Start-up waits and reconnects: one retry policy (tenacity) for a dependency that is not
ready yet (the database still starting, the broker not listening, a port not bound).

Not for messages: the consumer loop's classified retry ("retry later" against "this message is
bad", then the DLQ) is its own thing (`messaging/consumer_loop.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_never,
    wait_exponential,
)
from tenacity.stop import stop_base

log = structlog.get_logger(__name__)

T = TypeVar("T")
Errors = type[BaseException] | tuple[type[BaseException], ...]


class _stop_when_set(stop_base):
    """Stop retrying once the process is asked to stop (tenacity's own takes a thread's event)."""

    def __init__(self, event: asyncio.Event) -> None:
        self.event = event

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.event.is_set()


def _log_retry(what: str) -> Callable[[RetryCallState], None]:
    def note(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        log.warning("dependency_not_ready", dependency=what, attempt=state.attempt_number,
                    error=type(error).__name__)

    return note


def _policy(what: str, *, on: Errors, attempts: int | None, within_s: float | None,
            stopping: asyncio.Event | None, first_wait_s: float, max_wait_s: float,
            quiet: bool) -> dict[str, Any]:
    stop: stop_base = stop_never
    if attempts is not None:
        stop = stop | stop_after_attempt(attempts)
    if within_s is not None:
        stop = stop | stop_after_delay(within_s)
    if stopping is not None:
        stop = stop | _stop_when_set(stopping)
    return {"retry": retry_if_exception_type(on), "stop": stop, "reraise": True,
            "wait": wait_exponential(multiplier=first_wait_s, min=first_wait_s, max=max_wait_s),
            "before_sleep": None if quiet else _log_retry(what)}


async def until_ready(what: str, attempt: Callable[[], Awaitable[T]], *,
                      on: Errors = Exception, attempts: int | None = None,
                      within_s: float | None = None, stopping: asyncio.Event | None = None,
                      first_wait_s: float = 0.2, max_wait_s: float = 2.0,
                      quiet: bool = False) -> T:
    """Return what `attempt` returns once it succeeds, retrying the errors `on` with backoff
    (`first_wait_s` doubling up to `max_wait_s`); re-raise the last error after `attempts`
    tries, after `within_s` seconds, or once `stopping` is set. No limit: until it succeeds.

    Each retry logs `dependency_not_ready` with `what` (unless `quiet`: a fast local poll).
    """
    policy = _policy(what, on=on, attempts=attempts, within_s=within_s, stopping=stopping,
                     first_wait_s=first_wait_s, max_wait_s=max_wait_s, quiet=quiet)
    async for trying in AsyncRetrying(**policy):
        with trying:
            result = await attempt()
    return result


def until_ready_blocking(what: str, attempt: Callable[[], T], *, on: Errors = Exception,
                         attempts: int | None = None, within_s: float | None = None,
                         first_wait_s: float = 0.2, max_wait_s: float = 2.0,
                         quiet: bool = False) -> T:
    """`until_ready` for blocking code (it sleeps the calling thread between attempts)."""
    policy = _policy(what, on=on, attempts=attempts, within_s=within_s, stopping=None,
                     first_wait_s=first_wait_s, max_wait_s=max_wait_s, quiet=quiet)
    for trying in Retrying(**policy):
        with trying:
            result = attempt()
    return result
