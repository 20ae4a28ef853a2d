"""The customer health score (seeds 3.2, ChurnZero's ChurnScore shape): factor points that add
up to 100, a band, and a breakdown a person reads ("-8: two tickets unresolved for 9 days",
with a minus sign).

Each factor earns a share of its weight (the weights are settings and must add up to 100):

* recency: full within a week of the customer's last message, nothing after 60 days;
* sentiment: the mean of the last three scored messages (a plain 0.5 earns it all, 0.1 none),
  less up to half for a fall across them;
* escalations: none while an escalation is open;
* unresolved tickets: each open ticket costs up to half the weight as it ages to 14 days;
* contact frequency: writing half as often as the month before, or 2.5 times as often, starts
  to cost (silence is recency's business: no messages in either month costs nothing here);
* negative outcomes: each IDEA_REJECTED or NEGATIVE_RESPONSE of 90 days costs a third;
* engagement: answering 60% of our replies within a week earns it all.
Pure: `now` comes from the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from production.domain.proactive.facts import CustomerFacts
from production.domain.proactive.predictions import Features, features

BANDS = ("poor", "average", "good")
MINUS = "\u2212"  # the minus sign, as the console prints points lost
_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


@dataclass(frozen=True)
class HealthWeights:
    recency: int = 20
    sentiment: int = 20
    escalations: int = 15
    unresolved_tickets: int = 15
    contact_frequency: int = 10
    negative_outcomes: int = 10
    engagement: int = 10
    poor_below: int = 40
    good_from: int = 70

    def __post_init__(self) -> None:
        total = sum(self.points().values())
        if total != 100 or min(self.points().values()) < 0:
            raise ValueError(f"the health factors' weights must be >= 0 and add up to 100, "
                             f"not {total}")
        if not 0 < self.poor_below <= self.good_from <= 100:
            raise ValueError("the bands need 0 < poor_below <= good_from <= 100")

    def points(self) -> dict[str, int]:
        """Return each factor's weight, in the breakdown's order."""
        return dict(_points(self))


@lru_cache(maxsize=16)
def _points(weights: HealthWeights) -> dict[str, int]:
    return {f.name: getattr(weights, f.name) for f in fields(weights)
            if f.name not in ("poor_below", "good_from")}


@dataclass(frozen=True)
class FactorScore:
    factor: str
    points: int
    max_points: int
    sentence: str  # what the factor saw, in words

    @property
    def label(self) -> str:
        """The line the console shows: "-8: two tickets unresolved for 9 days" (a minus sign)."""
        lost = self.max_points - self.points
        return f"{MINUS}{lost}: {self.sentence}" if lost else f"+{self.points}: {self.sentence}"


@dataclass(frozen=True)
class Health:
    score: int
    band: str
    factors: tuple[FactorScore, ...]

    def breakdown(self) -> list[dict[str, Any]]:
        """Return the factors JSON-ready, as stored and shown."""
        return [{"factor": f.factor, "points": f.points, "max_points": f.max_points,
                 "label": f.label} for f in self.factors]


def count(n: int, noun: str) -> str:
    """Return "two tickets", "one ticket", "14 tickets"."""
    word = _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)
    return f"{word} {noun}" if n == 1 else f"{word} {noun}s"


def _clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


def _days(value: float) -> str:
    whole = int(value)
    return "1 day" if whole == 1 else f"{whole} days"


def _recency(f: Features, facts: CustomerFacts) -> tuple[float, str]:
    if facts.last_inbound_at is None:
        return 0.5, "no message from the customer yet"
    share = _clamp((60 - f.days_silent) / 53)
    return share, f"last message {_days(f.days_silent)} ago"


def _sentiment(f: Features, facts: CustomerFacts) -> tuple[float, str]:
    if not any(m.sentiment is not None for m in facts.recent):
        return 1.0, "no recent message to read the mood of"
    share = _clamp((f.sentiment - 0.1) / 0.4) - 0.5 * _clamp(f.sentiment_drop / 0.5)
    mood = "negative" if f.sentiment < 0.3 else "neutral" if f.sentiment < 0.6 else "positive"
    fall = f", falling by {f.sentiment_drop:.2f}" if f.sentiment_drop >= 0.05 else ""
    return _clamp(share), f"recent messages read {mood} ({f.sentiment:.2f}{fall})"


def _escalations(f: Features, facts: CustomerFacts) -> tuple[float, str]:
    if f.escalation_open:
        return 0.0, "an escalation is open: a person must handle it"
    return 1.0, "no open escalation"


def _unresolved(f: Features, facts: CustomerFacts, now: datetime) -> tuple[float, str]:
    if not facts.tickets:
        return 1.0, "no unresolved ticket"
    ages = [(now - t.created_at).total_seconds() / 86400 for t in facts.tickets]
    lost = sum(0.5 * _clamp(age / 14) for age in ages)
    return _clamp(1 - lost), f"{count(len(ages), 'ticket')} unresolved for {_days(max(ages))}"


def _frequency(f: Features, facts: CustomerFacts) -> tuple[float, str]:
    said = (f"{count(facts.inbound_30d, 'message')} in the last 30 days, "
            f"{facts.inbound_prev_30d} in the 30 before")
    ratio = f.frequency_ratio
    if ratio < 0.5:
        return _clamp(ratio / 0.5), said
    if ratio > 2.5:
        return _clamp(1 - (ratio - 2.5) / 5), said
    return 1.0, said


def _outcomes(f: Features, facts: CustomerFacts) -> tuple[float, str]:
    n = f.negative_outcomes
    if not n:
        return 1.0, "no rejected proposal or negative response in 90 days"
    return _clamp(1 - n / 3), (f"{count(n, 'negative outcome')} in 90 days "
                               "(rejected proposals, negative responses)")


def _engagement(f: Features, facts: CustomerFacts) -> tuple[float, str]:
    if f.answer_rate is None:
        return 1.0, "no reply of ours to judge by yet"
    return _clamp(f.answer_rate / 0.6), (f"answered {facts.replies_answered_90d} of our "
                                         f"{facts.replies_90d} replies within a week")


def band(score: int, weights: HealthWeights) -> str:
    if score < weights.poor_below:
        return "poor"
    return "good" if score >= weights.good_from else "average"


def score(facts: CustomerFacts, now: datetime, weights: HealthWeights | None = None, *,
          seen: Features | None = None) -> Health:
    """Return the customer's health at `now`: the score, its band and every factor's points.
    `seen`: the facts' features at `now`, when the caller has them already."""
    w = weights or HealthWeights()
    f = seen or features(facts, now)
    shares = {"recency": _recency(f, facts), "sentiment": _sentiment(f, facts),
              "escalations": _escalations(f, facts),
              "unresolved_tickets": _unresolved(f, facts, now),
              "contact_frequency": _frequency(f, facts),
              "negative_outcomes": _outcomes(f, facts), "engagement": _engagement(f, facts)}
    factors = tuple(FactorScore(factor=name, points=round(weight * shares[name][0]),
                                max_points=weight, sentence=shares[name][1])
                    for name, weight in w.points().items())
    total = sum(factor.points for factor in factors)
    return Health(score=total, band=band(total, w), factors=factors)
