"""The providers' circuit breaker and the delivery backoff."""

from __future__ import annotations

from production.domain.breaker import CircuitBreaker, backoff_s


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_consecutive_failures_open_the_breaker_and_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown_s=10, clock=Clock())
    assert breaker.allow() and not breaker.failed("503")
    assert not breaker.failed("503")
    assert breaker.succeeded()  # two failures, then a success: the count starts again
    assert (breaker.state, breaker.failures) == ("closed", 0)
    assert not breaker.succeeded()  # nothing changed
    assert not breaker.failed("a") and not breaker.failed("b")
    assert breaker.failed("timeout")  # the third in a row opens it
    assert (breaker.state, breaker.last_error) == ("open", "timeout")
    assert not breaker.allow()


def test_after_the_cooldown_one_trial_call_decides() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown_s=5, clock=clock)
    breaker.failed("503")
    clock.now = 4.9
    assert not breaker.allow()
    clock.now = 5.0
    assert breaker.allow() and breaker.state == "half_open"
    assert not breaker.allow()  # only one trial at a time
    assert breaker.failed("503 again")  # the trial failed: open for another cooldown
    assert breaker.state == "open" and not breaker.allow()
    clock.now = 10.0
    assert breaker.allow()
    assert breaker.succeeded() and breaker.state == "closed"
    assert breaker.allow() and breaker.allow()


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [backoff_s(n, initial_s=0.5, max_s=3) for n in range(1, 6)] == [0.5, 1, 2, 3, 3]
