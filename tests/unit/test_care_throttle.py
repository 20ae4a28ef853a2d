"""Throttles and quiet hours: time zones, DST days, the daily limits, and a bounded loop."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from production.care.throttle import (
    ThrottleDecision,
    ThrottleOutcome,
    ThrottleSettings,
    check,
    in_quiet_hours,
    local_day_start,
    next_local_day_start,
)

NIGHT = ThrottleSettings(quiet_hours_start=time(22), quiet_hours_end=time(7))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def run(now: datetime, tz: str, limits: ThrottleSettings = NIGHT, *, customer: int = 0,
        tenant: int = 0, last: datetime | None = None) -> ThrottleDecision:
    return check(now, tz, limits, actions_today_customer=customer, actions_today_tenant=tenant,
                 last_outbound_at=last)


@pytest.mark.parametrize(("tz", "now", "until"), [
    # London in winter (GMT) and summer (BST), before and after midnight.
    ("Europe/London", utc(2024, 1, 15, 23, 30), utc(2024, 1, 16, 7)),
    ("Europe/London", utc(2024, 1, 16, 3, 0), utc(2024, 1, 16, 7)),
    ("Europe/London", utc(2024, 7, 15, 21, 30), utc(2024, 7, 16, 6)),
    ("Europe/London", utc(2024, 7, 16, 5, 59), utc(2024, 7, 16, 6)),
    # The nights the clocks change: 07:00 local is 06:00 UTC after spring forward ...
    ("Europe/London", utc(2024, 3, 30, 23, 0), utc(2024, 3, 31, 6)),
    # ... and 07:00 UTC after falling back, with a repeated hour in between.
    ("Europe/London", utc(2024, 10, 26, 21, 30), utc(2024, 10, 27, 7)),
    ("Europe/London", utc(2024, 10, 27, 0, 30), utc(2024, 10, 27, 7)),
    ("America/New_York", utc(2024, 3, 10, 4, 0), utc(2024, 3, 10, 11)),  # 23:00 EST
    ("America/New_York", utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 12)),  # 01:30 EDT
    ("America/New_York", utc(2024, 11, 3, 6, 30), utc(2024, 11, 3, 12)),  # 01:30 EST
])
def test_quiet_hours_across_midnight_defer_to_their_local_end(tz: str, now: datetime,
                                                              until: datetime) -> None:
    decision = run(now, tz)
    assert decision == ThrottleDecision(ThrottleOutcome.DEFER,
                                        f"quiet hours 22:00-07:00 ({tz})", "PR10.quiet_hours",
                                        until)
    assert until.astimezone(ZoneInfo(tz)).time() == time(7)
    assert run(until, tz).outcome == ThrottleOutcome.ALLOW
    assert run(until - timedelta(seconds=1), tz).outcome == ThrottleOutcome.DEFER


@pytest.mark.parametrize(("tz", "now"), [
    ("Europe/London", utc(2024, 1, 15, 21, 59)),  # 21:59 GMT
    ("Europe/London", utc(2024, 7, 15, 20, 59)),  # 21:59 BST
    ("Europe/London", utc(2024, 3, 31, 6, 0)),  # 07:00 BST on the spring-forward day
    ("America/New_York", utc(2024, 3, 10, 11, 0)),  # 07:00 EDT on the spring-forward day
    ("America/New_York", utc(2024, 3, 10, 2, 30)),  # 21:30 EST
])
def test_outside_quiet_hours_actions_may_run(tz: str, now: datetime) -> None:
    assert run(now, tz) == ThrottleDecision(ThrottleOutcome.ALLOW, "within every throttle",
                                            "PR10.allow", None)


def test_quiet_hours_ending_in_the_skipped_hour_end_when_the_clocks_jump() -> None:
    # New York skips 02:00-03:00 on 2024-03-10: quiet until 02:30 ends at the jump (07:00 UTC).
    limits = ThrottleSettings(quiet_hours_start=time(22), quiet_hours_end=time(2, 30))
    decision = run(utc(2024, 3, 10, 5), "America/New_York", limits)
    assert decision.until == utc(2024, 3, 10, 7)
    assert decision.until.astimezone(ZoneInfo("America/New_York")).time() == time(3)


def test_quiet_hours_within_one_day_and_none_when_start_equals_end() -> None:
    lunch = ThrottleSettings(quiet_hours_start=time(12), quiet_hours_end=time(13, 30))
    assert run(utc(2024, 5, 2, 12, 15), "UTC", lunch).until == utc(2024, 5, 2, 13, 30)
    assert run(utc(2024, 5, 2, 13, 30), "UTC", lunch).outcome == ThrottleOutcome.ALLOW
    assert run(utc(2024, 5, 2, 11, 59), "UTC", lunch).outcome == ThrottleOutcome.ALLOW
    same = ThrottleSettings(quiet_hours_start=time(22), quiet_hours_end=time(22))
    assert not same.has_quiet_hours
    assert not in_quiet_hours(utc(2024, 5, 2, 22, 30), "UTC", same)
    assert run(utc(2024, 5, 2, 23), "UTC", same).outcome == ThrottleOutcome.ALLOW
    assert not in_quiet_hours(utc(2024, 5, 2, 23), "UTC", ThrottleSettings())
    assert in_quiet_hours(utc(2024, 5, 2, 23), "Asia/Kolkata", lunch) is False
    assert in_quiet_hours(utc(2024, 5, 2, 6, 45), "Asia/Kolkata", lunch)  # 12:15 IST


def test_the_minimum_interval_defers_until_it_has_passed() -> None:
    now = utc(2024, 5, 2, 12)
    limits = ThrottleSettings(min_interval=timedelta(minutes=10))
    last = now - timedelta(minutes=3)
    decision = run(now, "Europe/London", limits, last=last)
    assert (decision.outcome, decision.clause, decision.until) == (
        ThrottleOutcome.DEFER, "PR10.min_interval", last + timedelta(minutes=10))
    assert "600s" in decision.reason
    assert run(now, "Europe/London", limits, last=now - timedelta(minutes=10)).allowed
    assert run(now, "Europe/London", ThrottleSettings(min_interval=timedelta(0)),
               last=now).allowed


def test_an_interval_ending_in_quiet_hours_defers_to_their_end() -> None:
    limits = ThrottleSettings(min_interval=timedelta(hours=1), quiet_hours_start=time(22),
                              quiet_hours_end=time(7))
    now = utc(2024, 1, 15, 21, 30)  # 21:30 GMT: not quiet yet, but the interval ends at 22:15
    decision = run(now, "Europe/London", limits, last=now - timedelta(minutes=15))
    assert decision.outcome == ThrottleOutcome.DEFER
    assert decision.until == utc(2024, 1, 16, 7)
    assert decision.clause == "PR10.quiet_hours"
    assert "less than 3600s" in decision.reason and "quiet hours" in decision.reason


def test_the_per_customer_daily_max_refuses_until_the_next_local_day() -> None:
    now = utc(2024, 6, 1, 15)  # 11:00 in New York (EDT)
    limits = ThrottleSettings(max_actions_per_customer_day=3)
    assert run(now, "America/New_York", limits, customer=2, tenant=2).allowed
    decision = run(now, "America/New_York", limits, customer=3, tenant=3)
    assert decision.outcome == ThrottleOutcome.REFUSE
    assert decision.clause == "PR10.customer_daily_max"
    assert decision.until == utc(2024, 6, 2, 4)  # midnight EDT
    assert "3 autonomous actions today (max 3)" in decision.reason


def test_the_tenant_budget_refuses_whatever_the_customer_and_comes_first() -> None:
    now = utc(2024, 6, 1, 15)
    limits = ThrottleSettings(daily_budget=10, max_actions_per_customer_day=1)
    decision = run(now, "Europe/London", limits, customer=0, tenant=10)
    assert decision.outcome == ThrottleOutcome.REFUSE
    assert decision.clause == "PR10.tenant_daily_budget"
    assert decision.until == utc(2024, 6, 1, 23)  # midnight BST
    assert run(now, "Europe/London", limits, customer=5, tenant=10).clause == (
        "PR10.tenant_daily_budget")
    # A daily limit outranks quiet hours: refused until tomorrow, not deferred.
    at_night = run(utc(2024, 1, 15, 23), "Europe/London", NIGHT, customer=5, tenant=5)
    assert at_night.outcome == ThrottleOutcome.REFUSE


def test_zero_limits_refuse_everything() -> None:
    now = utc(2024, 6, 1, 15)
    assert run(now, "UTC", ThrottleSettings(daily_budget=0)).outcome == ThrottleOutcome.REFUSE
    assert run(now, "UTC", ThrottleSettings(max_actions_per_customer_day=0)).outcome == (
        ThrottleOutcome.REFUSE)


def test_local_days_follow_the_tenant_zone_through_dst() -> None:
    assert local_day_start(utc(2024, 3, 10, 12), "America/New_York") == utc(2024, 3, 10, 5)
    assert next_local_day_start(utc(2024, 3, 10, 12), "America/New_York") == utc(2024, 3, 11, 4)
    assert local_day_start(utc(2024, 11, 3, 12), "America/New_York") == utc(2024, 11, 3, 4)
    assert local_day_start(utc(2024, 3, 31, 12), "Europe/London") == utc(2024, 3, 31)
    # Santiago skipped midnight on 2024-09-08 (00:00 -> 01:00): the day starts at the jump.
    assert local_day_start(utc(2024, 9, 8, 12), "America/Santiago") == utc(2024, 9, 8, 4)
    assert next_local_day_start(utc(2024, 9, 7, 12), "America/Santiago") == utc(2024, 9, 8, 4)


def test_the_limits_read_from_a_care_settings_row() -> None:
    row = {"max_actions_per_customer_day": 2, "min_interval_s": 90, "daily_budget": 7,
           "quiet_hours_start": time(21), "quiet_hours_end": time(6, 30), "kill_switch": False}
    assert ThrottleSettings.from_columns(row) == ThrottleSettings(
        max_actions_per_customer_day=2, min_interval=timedelta(seconds=90), daily_budget=7,
        quiet_hours_start=time(21), quiet_hours_end=time(6, 30))


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        run(datetime(2024, 1, 1, 12), "UTC")
    with pytest.raises(ValueError, match="last_outbound_at"):
        run(utc(2024, 1, 1, 12), "UTC", last=datetime(2024, 1, 1, 11))
    with pytest.raises(ValueError, match="unknown time zone"):
        run(utc(2024, 1, 1, 12), "Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="unknown time zone"):
        local_day_start(utc(2024, 1, 1, 12), "")
    with pytest.raises(ValueError, match="negative"):
        ThrottleSettings(daily_budget=-1)
    with pytest.raises(ValueError, match="negative"):
        ThrottleSettings(min_interval=timedelta(seconds=-1))
    with pytest.raises(ValueError, match="both a start and an end"):
        ThrottleSettings(quiet_hours_start=time(22))
    with pytest.raises(ValueError, match="wall-clock"):
        ThrottleSettings(quiet_hours_start=time(22, tzinfo=UTC), quiet_hours_end=time(7))


ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
         "America/Santiago", "Pacific/Chatham"]
quiet = st.one_of(st.none(), st.tuples(st.times(), st.times()))
limits = st.builds(
    lambda per_customer, interval_s, budget, hours: ThrottleSettings(
        max_actions_per_customer_day=per_customer, min_interval=timedelta(seconds=interval_s),
        daily_budget=budget, quiet_hours_start=hours[0] if hours else None,
        quiet_hours_end=hours[1] if hours else None),
    st.integers(0, 6), st.integers(0, 4 * 3600), st.integers(0, 12), quiet)
# Each call: which of 3 customers asks, how long after the previous call, and whether the
# caller sleeps until the decision's `until` (a well-behaved loop) or retries at once.
calls = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3 * 3600), st.booleans()),
                 min_size=1, max_size=150)


@settings(max_examples=200, deadline=None)
@given(tz=st.sampled_from(ZONES), limits=limits, calls=calls,
       start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2025, 12, 31),
                          timezones=st.just(UTC)))
def test_a_loop_of_calls_never_exceeds_the_limits(
    tz: str, limits: ThrottleSettings, calls: list[tuple[int, int, bool]], start: datetime,
) -> None:
    zone = ZoneInfo(tz)
    executed: list[tuple[int, datetime]] = []
    now = start
    for customer, gap_s, sleep in calls:
        now += timedelta(seconds=gap_s)
        day_start = local_day_start(now, tz)
        today = [(c, at) for c, at in executed if at >= day_start]
        mine = [at for c, at in executed if c == customer]
        decision = check(now, tz, limits,
                         actions_today_customer=sum(1 for c, _ in today if c == customer),
                         actions_today_tenant=len(today),
                         last_outbound_at=max(mine, default=None))
        assert decision.reason and decision.clause
        if decision.allowed:
            assert decision.until is None
            assert not in_quiet_hours(now, tz, limits)
            executed.append((customer, now))
            continue
        assert decision.until is not None and decision.until > now
        if decision.outcome == ThrottleOutcome.DEFER:
            # `until` is the earliest moment: a second earlier it is still deferred.
            before = decision.until - timedelta(seconds=1)
            if before > now:
                assert check(before, tz, limits, actions_today_customer=0,
                             actions_today_tenant=0,
                             last_outbound_at=max(mine, default=None)).outcome == (
                    ThrottleOutcome.DEFER)
        if sleep:
            now = decision.until
    per_customer_day = Counter((c, at.astimezone(zone).date()) for c, at in executed)
    per_day = Counter(at.astimezone(zone).date() for _, at in executed)
    assert all(n <= limits.max_actions_per_customer_day for n in per_customer_day.values())
    assert all(n <= limits.daily_budget for n in per_day.values())
    for customer in range(3):
        times = sorted(at for c, at in executed if c == customer)
        assert all(b - a >= limits.min_interval for a, b in pairwise(times))
