"""Throttles and quiet hours (PR10): whether an autonomous action may run now, later, or not today.

Pure: the caller passes the clock, the tenant's time zone and today's counts (from
production/database/queries/care_throttle.py, counted from `local_day_start`).

Why a runaway loop cannot happen. Every autonomous action is checked here first and, when it
runs, leaves an `executed_action` audit row in the same transaction, which the next check
counts. Whatever loop drives the executor (a retry storm, a trigger that fires on its own
output, two workers on one customer), three limits bound it:

* per customer and local day, at most `max_actions_per_customer_day` actions (REFUSE after);
* per tenant and local day, at most `daily_budget` actions over all its customers, however
  many customers a loop walks through (REFUSE after);
* per customer, at most one outbound action per `min_interval` (DEFER until it has passed),
  so even the daily allowance cannot be spent in a burst.

So one tenant's autonomous actions in a local day are at most
min(daily_budget, customers * max_actions_per_customer_day), whatever calls the executor.
The counts are only as good as their serialization: the caller takes
`care_throttle.lock_tenant` in the action's transaction before counting, so two executors
cannot both see the same count. Quiet hours DEFER, never drop. A limit of 0 refuses
everything. The kill switches (care_settings.kill_switch, care_global, CARE_AUTONOMY_ENABLED)
are not part of this check: they stop autonomy before any throttle is consulted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from production.domain.care.admin_settings import format_hhmm


class ThrottleOutcome(StrEnum):
    ALLOW = "ALLOW"
    DEFER = "DEFER"  # not now: may run at `until`
    REFUSE = "REFUSE"  # a daily limit is reached: not before `until` (the next local day)


@dataclass(frozen=True)
class ThrottleSettings:
    """A tenant's limits (the care_settings columns of migration 010)."""

    max_actions_per_customer_day: int = 5
    min_interval: timedelta = timedelta(seconds=60)
    daily_budget: int = 200
    # Local wall-clock times in the tenant's zone; may cross midnight (22:00-07:00).
    # Both None, or start == end: no quiet hours.
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None

    def __post_init__(self) -> None:
        if self.max_actions_per_customer_day < 0 or self.daily_budget < 0:
            raise ValueError("daily limits cannot be negative")
        if self.min_interval < timedelta(0):
            raise ValueError("min_interval cannot be negative")
        if (self.quiet_hours_start is None) != (self.quiet_hours_end is None):
            raise ValueError("quiet hours need both a start and an end")
        for moment in (self.quiet_hours_start, self.quiet_hours_end):
            if moment is not None and moment.tzinfo is not None:
                raise ValueError("quiet hours are wall-clock times in the tenant's zone")

    @classmethod
    def from_columns(cls, row: Mapping[str, Any]) -> ThrottleSettings:
        """Return the limits from a care_settings row (min_interval_s in seconds)."""
        return cls(max_actions_per_customer_day=row["max_actions_per_customer_day"],
                   min_interval=timedelta(seconds=row["min_interval_s"]),
                   daily_budget=row["daily_budget"],
                   quiet_hours_start=row["quiet_hours_start"],
                   quiet_hours_end=row["quiet_hours_end"])

    @property
    def has_quiet_hours(self) -> bool:
        return (self.quiet_hours_start is not None
                and self.quiet_hours_start != self.quiet_hours_end)


@dataclass(frozen=True)
class ThrottleDecision:
    outcome: ThrottleOutcome
    reason: str  # for the audit trail and the operator
    clause: str  # e.g. PR10.customer_daily_max
    until: datetime | None = None  # UTC; set for DEFER and REFUSE

    @property
    def allowed(self) -> bool:
        return self.outcome == ThrottleOutcome.ALLOW


def zone(name: str) -> ZoneInfo:
    """Return the tenant's time zone; ValueError for a name the tz database does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


def _wall_instants(day: date, wall: time, tz: ZoneInfo) -> list[datetime]:
    """Return, in UTC and in order, the instants at which the local clock reads `wall` on `day`.

    Usually one. Two when clocks go back over it (the wall time is repeated). When clocks go
    forward over it (the wall time is skipped), the one instant at which the clock jumps past
    it: the first moment the local clock reads later than `wall` that day.
    """
    naive = datetime.combine(day, wall)
    folds = [naive.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)]
    real = sorted({u for u in folds if u.astimezone(tz).replace(tzinfo=None) == naive})
    if real:
        return real
    # Skipped: one fold reads before `wall`, the other after; the jump lies between them.
    before, after = min(folds), max(folds)
    while after - before > timedelta(microseconds=1):
        middle = before + (after - before) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= naive:
            after = middle
        else:
            before = middle
    return [after]


def _next_wall(now: datetime, tz: ZoneInfo, wall: time) -> datetime:
    """Return the first instant after `now` at which the local clock reads `wall` (or, where
    DST skips it, jumps past it)."""
    today = now.astimezone(tz).date()
    return next(instant for offset in (0, 1, 2)
                for instant in _wall_instants(today + timedelta(days=offset), wall, tz)
                if instant > now)


def _day_start(tz: ZoneInfo, day: date) -> datetime:
    """Return the first instant of the local `day`."""
    return _wall_instants(day, time(0), tz)[0]


def local_day_start(now_utc: datetime, tenant_timezone: str) -> datetime:
    """Return (in UTC) the start of the tenant's local day that contains now_utc."""
    now, tz = _utc(now_utc, "now_utc"), zone(tenant_timezone)
    return _day_start(tz, now.astimezone(tz).date())


def next_local_day_start(now_utc: datetime, tenant_timezone: str) -> datetime:
    """Return (in UTC) the start of the tenant's next local day."""
    now, tz = _utc(now_utc, "now_utc"), zone(tenant_timezone)
    return _day_start(tz, now.astimezone(tz).date() + timedelta(days=1))


def _quiet(now: datetime, tz: ZoneInfo, settings: ThrottleSettings) -> bool:
    if not settings.has_quiet_hours:
        return False
    start, end = settings.quiet_hours_start, settings.quiet_hours_end
    assert start is not None and end is not None
    wall = now.astimezone(tz).time()
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end  # crosses midnight


def in_quiet_hours(now_utc: datetime, tenant_timezone: str, settings: ThrottleSettings) -> bool:
    """Return whether the tenant's local clock is within its quiet hours."""
    return _quiet(_utc(now_utc, "now_utc"), zone(tenant_timezone), settings)


def check(now_utc: datetime, tenant_timezone: str, settings: ThrottleSettings, *,
          actions_today_customer: int, actions_today_tenant: int,
          last_outbound_at: datetime | None, outbound: bool = True) -> ThrottleDecision:
    """Return ALLOW, DEFER (until the earliest time it may run) or REFUSE (until tomorrow).

    `actions_today_*` count the actions executed since `local_day_start(now_utc, zone)`;
    `last_outbound_at` is the customer's latest outbound action (None: never). An action that
    never reaches the customer (`outbound` False: an internal note or task) uses the day's
    allowance but is not paced: neither the minimum interval nor quiet hours apply to it.
    """
    now, tz = _utc(now_utc, "now_utc"), zone(tenant_timezone)
    refusal: tuple[str, str] | None = None
    if actions_today_tenant >= settings.daily_budget:
        refusal = (f"the tenant's daily budget of {settings.daily_budget} autonomous actions "
                   f"is spent ({actions_today_tenant} today)", "PR10.tenant_daily_budget")
    elif actions_today_customer >= settings.max_actions_per_customer_day:
        refusal = (f"this customer already had {actions_today_customer} autonomous actions "
                   f"today (max {settings.max_actions_per_customer_day})",
                   "PR10.customer_daily_max")
    if refusal is not None:
        tomorrow = now.astimezone(tz).date() + timedelta(days=1)
        return ThrottleDecision(ThrottleOutcome.REFUSE, *refusal, _day_start(tz, tomorrow))

    earliest, clause, reasons = now, "PR10.allow", []
    if not outbound:
        return ThrottleDecision(ThrottleOutcome.ALLOW, "within the daily limits", clause)
    if last_outbound_at is not None:
        ready = _utc(last_outbound_at, "last_outbound_at") + settings.min_interval
        if ready > now:
            earliest, clause = ready, "PR10.min_interval"
            reasons.append(f"the last outbound action was less than "
                           f"{settings.min_interval.total_seconds():g}s ago")
    if _quiet(earliest, tz, settings):
        assert settings.quiet_hours_end is not None
        # The end of quiet hours is outside them, and later than `ready`: both hold there.
        earliest = _next_wall(earliest, tz, settings.quiet_hours_end)
        clause = "PR10.quiet_hours"
        reasons.append(f"quiet hours {format_hhmm(settings.quiet_hours_start)}-"
                       f"{format_hhmm(settings.quiet_hours_end)} ({tenant_timezone})")
    if earliest == now:
        return ThrottleDecision(ThrottleOutcome.ALLOW, "within every throttle", clause)
    return ThrottleDecision(ThrottleOutcome.DEFER, "; ".join(reasons), clause, earliest)
