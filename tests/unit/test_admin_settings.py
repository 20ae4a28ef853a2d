"""The rules a tenant's autonomy settings must satisfy (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest

from production.domain.care.admin_settings import (
    MAX_DAILY_BUDGET,
    AutonomySettings,
    format_hhmm,
    parse_hhmm,
    problems,
)

DEFAULTS = AutonomySettings(mode="assist", max_actions_per_customer_day=5, min_interval_s=60,
                            daily_budget=200, quiet_hours_start=None, quiet_hours_end=None,
                            schedules_opt_in=False, hands_off_new_customers=False)


def test_the_schema_defaults_are_valid() -> None:
    assert problems(DEFAULTS) == []


@pytest.mark.parametrize(("change", "field"), [
    ({"mode": "turbo"}, "mode"),
    ({"max_actions_per_customer_day": -1}, "max_actions_per_customer_day"),
    ({"min_interval_s": -5}, "min_interval_s"),
    ({"daily_budget": MAX_DAILY_BUDGET + 1}, "daily_budget"),
    ({"quiet_hours_start": time(22, 0)}, "quiet_hours_end"),
    ({"quiet_hours_end": time(7, 0)}, "quiet_hours_start"),
    ({"quiet_hours_start": time(7, 0), "quiet_hours_end": time(7, 0)}, "quiet_hours_end"),
    ({"mode": "schedules"}, "schedules_opt_in"),
    ({"mode": "schedules", "schedules_opt_in": True, "daily_budget": 0}, "daily_budget"),
])
def test_each_broken_rule_names_its_field(change: dict[str, object], field: str) -> None:
    found = problems(replace(DEFAULTS, **change))  # type: ignore[arg-type]
    assert [name for name, _ in found] == [field]
    assert all(reason for _, reason in found)


def test_schedules_without_opt_in_or_budget_reports_both() -> None:
    found = problems(replace(DEFAULTS, mode="schedules", daily_budget=0))
    assert sorted(name for name, _ in found) == ["daily_budget", "schedules_opt_in"]


def test_schedules_with_opt_in_and_budget_and_overnight_quiet_hours_is_valid() -> None:
    ok = replace(DEFAULTS, mode="schedules", schedules_opt_in=True, daily_budget=10,
                 quiet_hours_start=time(22, 0), quiet_hours_end=time(7, 0))
    assert problems(ok) == []
    assert ok.as_json()["quiet_hours_start"] == "22:00"
    assert ok.as_json()["quiet_hours_end"] == "07:00"


@pytest.mark.parametrize("text", ["24:00", "7:00", "07:60", "07:00:60", "07:00:5", "", "noon",
                                  "07-00", "07:00\n", "07:00:00:00"])
def test_times_of_day_must_be_hh_mm(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_hhmm(text)


def test_hh_mm_round_trips() -> None:
    for text in ("00:00", "09:05", "23:59", "07:00:30"):
        assert format_hhmm(parse_hhmm(text)) == text
    assert format_hhmm(parse_hhmm("07:00:00")) == "07:00"  # seconds only when there are any
    assert format_hhmm(None) is None
