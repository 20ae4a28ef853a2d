"""What an admin may set for a tenant's autonomy, and the rules a setting must satisfy.

Pure: the API parses a request into `AutonomySettings`, these rules say what is wrong with it,
and nothing is stored while anything is.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import time
from typing import Any

from production.domain.care.policy import AutonomyMode

MODES: tuple[str, ...] = tuple(str(mode) for mode in AutonomyMode)

# Upper bounds: beyond these a number is a typo, not a policy.
MAX_ACTIONS_PER_CUSTOMER_DAY = 1_000
MAX_MIN_INTERVAL_S = 7 * 86_400
MAX_DAILY_BUDGET = 1_000_000

_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")


@dataclass(frozen=True)
class AutonomySettings:
    mode: str
    max_actions_per_customer_day: int
    min_interval_s: int
    daily_budget: int
    quiet_hours_start: time | None
    quiet_hours_end: time | None
    schedules_opt_in: bool
    hands_off_new_customers: bool

    def as_json(self) -> dict[str, Any]:
        """Return the settings with quiet hours as "HH:MM" (for responses and audit rows)."""
        values = asdict(self)
        for key in ("quiet_hours_start", "quiet_hours_end"):
            values[key] = format_hhmm(values[key])
        return values


def parse_hhmm(text: str) -> time:
    """Return the time an "HH:MM" (or "HH:MM:SS") string on a 24-hour clock names; ValueError
    otherwise."""
    match = _HHMM.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time of day as HH:MM")
    return time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def format_hhmm(value: time | None) -> str | None:
    """Return "HH:MM", or "HH:MM:SS" when the time has seconds."""
    if value is None:
        return None
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def problems(settings: AutonomySettings) -> list[tuple[str, str]]:
    """Return (field, reason) for every rule the settings break; empty when they are valid."""
    found: list[tuple[str, str]] = []
    if settings.mode not in MODES:
        found.append(("mode", f"must be one of {', '.join(MODES)}"))
    for name, ceiling in (("max_actions_per_customer_day", MAX_ACTIONS_PER_CUSTOMER_DAY),
                          ("min_interval_s", MAX_MIN_INTERVAL_S),
                          ("daily_budget", MAX_DAILY_BUDGET)):
        value = getattr(settings, name)
        if not 0 <= value <= ceiling:
            found.append((name, f"must be between 0 and {ceiling}"))
    start, end = settings.quiet_hours_start, settings.quiet_hours_end
    if (start is None) != (end is None):
        found.append(("quiet_hours_end" if end is None else "quiet_hours_start",
                      "quiet hours need both a start and an end (or neither)"))
    elif start is not None and start == end:
        found.append(("quiet_hours_end", "quiet hours must not start and end at the same time"))
    if settings.mode == AutonomyMode.SCHEDULES:
        found += schedules_problems(settings)
    return found


def schedules_problems(settings: AutonomySettings) -> list[tuple[str, str]]:
    """Return why the tenant may not run in schedules mode (empty when it may)."""
    found: list[tuple[str, str]] = []
    if not settings.schedules_opt_in:
        found.append(("schedules_opt_in", "schedules mode needs an explicit opt-in "
                                          "(schedules_opt_in: true)"))
    if settings.daily_budget <= 0:
        found.append(("daily_budget", "schedules mode needs a daily budget above 0"))
    return found
