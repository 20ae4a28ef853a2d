"""No spam, by construction: the rules that hold a firing back before it becomes a suggestion.

Pure: the caller reads what the customer already had (`History`, from the suggestions table)
and passes its own `now`; every limit is a setting (`SpamRules`, from FTE_SUGGESTIONS_*).

1. At most `max_per_customer_day` suggestions per customer and local day of the tenant. The
   database enforces it too: each of a day's suggestions takes a numbered slot, unique per
   (tenant, customer, day, slot), so two schedulers that both read "none yet" cannot both write.
2. At most `max_per_trigger` suggestions of one trigger for one customer within
   `trigger_window` (by default the expiry: three live at most).
3. A trigger is paused for a customer for `pause` after `dismissals_to_pause` dismissals (a run
   of them counted since the last pause ended: after a pause, it takes five more).
4. A suggestion of the trigger already pending for the customer: nothing new (the first still
   says it).

Stale suggestions expire (`expires_at`, a scheduler pass); they still count for rule 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class SpamRule(StrEnum):
    PER_DAY = "per_day"
    PER_TRIGGER = "per_trigger"
    PAUSED = "paused"
    PENDING = "pending"


@dataclass(frozen=True)
class SpamRules:
    max_per_customer_day: int = 1
    max_per_trigger: int = 3
    trigger_window: timedelta = timedelta(days=28)
    dismissals_to_pause: int = 5
    pause: timedelta = timedelta(days=31)


@dataclass(frozen=True)
class History:
    """What the customer already had, as the caller read it."""

    today: int  # suggestions of the customer written in the tenant's local day of `now`
    of_trigger_since: Sequence[datetime]  # this trigger's suggestions, their created_at
    dismissed_at: Sequence[datetime]  # this trigger's dismissals for the customer
    pending_of_trigger: int  # this trigger's suggestions still pending


@dataclass(frozen=True)
class SpamVerdict:
    allowed: bool
    rule: SpamRule | None = None
    reason: str = ""
    day_slot: int = 0  # the slot of the customer's day the suggestion takes when allowed
    paused_until: datetime | None = None


def paused_until(dismissed_at: Sequence[datetime], *, threshold: int, pause: timedelta,
                 now: datetime) -> datetime | None:
    """Return until when the trigger is paused for the customer at `now`, or None.

    Every `threshold` dismissals in a row (counted from the end of the last pause) pause it for
    `pause` from the last of them; a dismissal while paused (of an older suggestion) does not
    count towards the next pause.
    """
    if threshold <= 0:
        return None
    until: datetime | None = None
    run = 0
    for at in sorted(dismissed_at):
        if until is not None and at < until:
            continue
        run += 1
        if run >= threshold:
            until, run = at + pause, 0
    return until if until is not None and now < until else None


def check(rules: SpamRules, history: History, *, now: datetime) -> SpamVerdict:
    """Return whether a new suggestion of the trigger may be written for the customer at `now`,
    and if not, the rule that held it and why."""
    if history.today >= rules.max_per_customer_day:
        return SpamVerdict(False, SpamRule.PER_DAY,
                           f"the customer had {history.today} suggestion(s) today "
                           f"(at most {rules.max_per_customer_day} a day)")
    until = paused_until(history.dismissed_at, threshold=rules.dismissals_to_pause,
                         pause=rules.pause, now=now)
    if until is not None:
        return SpamVerdict(False, SpamRule.PAUSED,
                           f"paused until {until.isoformat()} after "
                           f"{rules.dismissals_to_pause} dismissals", paused_until=until)
    if history.pending_of_trigger > 0:
        return SpamVerdict(False, SpamRule.PENDING,
                           "a suggestion of this trigger is already pending for the customer")
    since = now - rules.trigger_window
    recent = sum(1 for at in history.of_trigger_since if at >= since)
    if recent >= rules.max_per_trigger:
        return SpamVerdict(False, SpamRule.PER_TRIGGER,
                           f"{recent} suggestions of this trigger in the last "
                           f"{rules.trigger_window.days} days (at most {rules.max_per_trigger})")
    return SpamVerdict(True, day_slot=history.today)
