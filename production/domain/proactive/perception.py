"""The PerceptionScheduler (seeds 5.2): when each customer is looked at next.

Hot customers (a message in the last two days, an open escalation, or a score that just fell)
are looked at often, warm ones (a message in the last two weeks, or an open ticket) a few times
a day, cold ones once a day. A customer is never looked at later than the next instant a
trigger would fire with the facts as they are (an SLA or a follow-up coming due), so a stalled
ticket fires on time without every customer being looked at every minute. A signal (a message,
a state change, an outcome) brings the look forward to the signal itself.

A look that finds the same facts as the last one (the facts' hash) recomputes nothing, unless
the facts' own deadline (`stale_at`) or a day has passed since the last computation: an
unchanged customer costs the facts queries and nothing more, and never a model call.

Each sweep looks at no more than `cap_per_tenant` customers of one tenant: signalled ones
first, then the hot, then the longest overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from production.domain.proactive.facts import CustomerFacts


class Heat(StrEnum):
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


@dataclass(frozen=True)
class Look:
    heat: Heat
    next_look_at: datetime
    reason: str


@dataclass(frozen=True)
class PerceptionScheduler:
    hot_every: timedelta = timedelta(minutes=15)
    warm_every: timedelta = timedelta(hours=6)
    cold_every: timedelta = timedelta(hours=24)
    hot_contact_within: timedelta = timedelta(days=2)
    warm_contact_within: timedelta = timedelta(days=14)
    falling_by: int = 5  # a score this much lower than the last one is hot
    recompute_every: timedelta = timedelta(hours=24)  # "nightly", for unchanged facts
    soonest: timedelta = timedelta(minutes=1)  # never look again sooner than this
    cap_per_tenant: int = 5_000

    def heat(self, facts: CustomerFacts, now: datetime, *, trend: int = 0) -> tuple[Heat, str]:
        """Return how hot the customer is at `now`, and why."""
        last = facts.last_inbound_at
        if facts.escalation_open:
            return Heat.HOT, "an escalation is open"
        if trend <= -self.falling_by:
            return Heat.HOT, f"the health score fell by {-trend}"
        if last is not None and now - last <= self.hot_contact_within:
            return Heat.HOT, "wrote in the last two days"
        if last is not None and now - last <= self.warm_contact_within:
            return Heat.WARM, "wrote in the last two weeks"
        if facts.tickets:
            return Heat.WARM, "has an open ticket"
        return Heat.COLD, "quiet"

    def next_look(self, facts: CustomerFacts, now: datetime, *, trend: int = 0,
                  upcoming: datetime | None = None) -> Look:
        """Return when to look at the customer again: the heat's interval after `now`, or the
        next instant a trigger would fire (`upcoming`) when that is sooner."""
        heat, reason = self.heat(facts, now, trend=trend)
        every = {Heat.HOT: self.hot_every, Heat.WARM: self.warm_every,
                 Heat.COLD: self.cold_every}[heat]
        at = now + every
        if upcoming is not None and upcoming < at:
            at, reason = max(upcoming, now + self.soonest), f"{reason}; a trigger comes due"
        return Look(heat=heat, next_look_at=at, reason=reason)

    def needs_recompute(self, *, facts_hash: str, stored_hash: str | None,
                        stale_at: datetime | None, computed_at: datetime | None,
                        now: datetime) -> bool:
        """Return True when the look must run the triggers and the score again: the facts
        changed, their own deadline passed, or the last computation is a day old."""
        if stored_hash is None or facts_hash != stored_hash or computed_at is None:
            return True
        if stale_at is not None and stale_at <= now:
            return True
        return now - computed_at >= self.recompute_every
