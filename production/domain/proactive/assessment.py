"""One look at one customer: the facts in, what to store out (pure; the sweep and the signal
path do the I/O around it).

A look recomputes only when the PerceptionScheduler says so (the facts changed, their
deadline passed, or a day went by); then it runs the trigger registry, scores the health and
predicts engagement and churn. Either way it says when to look again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from production.domain.proactive import health, predictions, triggers
from production.domain.proactive.facts import CustomerFacts
from production.domain.proactive.firing import Firing
from production.domain.proactive.perception import Look, PerceptionScheduler


@dataclass(frozen=True)
class ProactiveRules:
    triggers: triggers.TriggerRules = field(default_factory=triggers.TriggerRules)
    weights: health.HealthWeights = field(default_factory=health.HealthWeights)
    perception: PerceptionScheduler = field(default_factory=PerceptionScheduler)


@dataclass(frozen=True)
class Stored:
    """What the last look stored for the customer (care_perception)."""

    facts_hash: str | None = None
    stale_at: datetime | None = None
    evaluated_at: datetime | None = None


@dataclass(frozen=True)
class Assessment:
    customer_id: UUID
    facts_hash: str
    look: Look
    stale_at: datetime | None  # the next instant a trigger comes due with these facts
    recomputed: bool
    health: health.Health | None = None
    trend: int = 0
    prediction: predictions.Prediction | None = None
    firings: tuple[Firing, ...] = ()
    changed_score: bool = False  # the score or band is not the stored one: a history row


class Assessor:
    """The registry bound to the rules, reused for every customer of a sweep."""

    def __init__(self, rules: ProactiveRules | None = None) -> None:
        self.rules = rules or ProactiveRules()
        self.registry = triggers.registry(self.rules.triggers)

    def assess(self, facts: CustomerFacts, now: datetime, stored: Stored) -> Assessment:
        """Return what one look at the customer at `now` finds."""
        fingerprint = facts.observed_hash()
        scheduler = self.rules.perception
        upcoming = triggers.upcoming(self.rules.triggers, facts, now)
        prior = facts.prior
        if not scheduler.needs_recompute(facts_hash=fingerprint, stored_hash=stored.facts_hash,
                                         stale_at=stored.stale_at,
                                         computed_at=stored.evaluated_at, now=now):
            return Assessment(customer_id=facts.customer_id, facts_hash=fingerprint,
                              look=scheduler.next_look(facts, now, upcoming=upcoming),
                              stale_at=upcoming, recomputed=False)
        seen = predictions.features(facts, now)
        scored = health.score(facts, now, self.rules.weights, seen=seen)
        changed = prior is None or (prior.score, prior.band) != (scored.score, scored.band)
        # The trend is against the last different score: a nightly recompute that finds the
        # same score keeps it.
        trend = 0 if prior is None else (scored.score - prior.score if changed else prior.trend)
        fell_now = trend if changed else 0  # a score that just fell makes the customer hot
        return Assessment(
            customer_id=facts.customer_id, facts_hash=fingerprint,
            look=scheduler.next_look(facts, now, trend=fell_now, upcoming=upcoming),
            stale_at=upcoming, recomputed=True, health=scored, trend=trend,
            changed_score=changed,
            prediction=predictions.from_features(seen),
            firings=tuple(triggers.fire(self.registry, facts, now)))
