"""Engagement and churn risk as probabilities, computed deterministically from a customer's
facts (seeds 3.2). No model is trained here: each probability is a logistic function of a few
features with coefficients set by hand, so every number can be explained from the facts, and
`fte eval-predictions` measures them against synthetic histories whose generating rules are
not these (specs/predictions.md says what those figures mean and do not mean).

* churn risk: the probability that the customer stops being a customer in the next 60 days
  (for a subscription, the same number read at the renewal date is the renewal risk);
* engagement: the probability that the customer answers the next message we send them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from production.domain.proactive.facts import CustomerFacts

VERSION = 1
CHURN_BANDS = ("low", "medium", "high")
MEDIUM_FROM = 0.25
HIGH_FROM = 0.5


@dataclass(frozen=True)
class Features:
    days_silent: float  # since the customer's last message (since they appeared, if none)
    sentiment: float  # the mean of the last scored messages, 0.5 when none
    sentiment_drop: float  # first minus last of those, 0 when rising
    escalation_open: bool
    open_tickets: int
    oldest_open_days: float
    negative_outcomes: int
    frequency_ratio: float  # (last 30 days + 1) / (the 30 before + 1)
    answer_rate: float | None  # share of our replies answered within a week; None: none yet


@dataclass(frozen=True)
class Prediction:
    engagement: float
    churn_risk: float
    churn_band: str


def features(facts: CustomerFacts, now: datetime) -> Features:
    """Return the features the probabilities (and the health score) read, at `now`."""
    since = facts.last_inbound_at or facts.created_at
    scored = [m.sentiment for m in facts.recent if m.sentiment is not None][-3:]
    oldest = max(((now - t.created_at).total_seconds() / 86400 for t in facts.tickets),
                 default=0.0)
    return Features(
        days_silent=max(0.0, (now - since).total_seconds() / 86400),
        sentiment=sum(scored) / len(scored) if scored else 0.5,
        sentiment_drop=max(0.0, scored[0] - scored[-1]) if len(scored) >= 2 else 0.0,
        escalation_open=facts.escalation_open,
        open_tickets=len(facts.tickets),
        oldest_open_days=max(0.0, oldest),
        negative_outcomes=facts.negative_outcomes_90d,
        frequency_ratio=(facts.inbound_30d + 1) / (facts.inbound_prev_30d + 1),
        answer_rate=(facts.replies_answered_90d / facts.replies_90d
                     if facts.replies_90d else None),
    )


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, x))))


def churn_band(risk: float) -> str:
    return "high" if risk >= HIGH_FROM else "medium" if risk >= MEDIUM_FROM else "low"


def from_features(f: Features) -> Prediction:
    """Return the probabilities for these features."""
    answered = 0.5 if f.answer_rate is None else f.answer_rate
    churn = _sigmoid(
        -2.2
        + 1.1 * min(f.days_silent, 90) / 30  # silence: +1.1 per month, up to three
        + 3.0 * max(0.0, 0.5 - f.sentiment)  # unhappy words
        + 2.0 * f.sentiment_drop
        + 0.7 * f.escalation_open
        + 0.25 * min(f.open_tickets, 4)
        + 0.4 * min(f.oldest_open_days, 30) / 10
        + 0.45 * min(f.negative_outcomes, 4)
        + 0.5 * max(0.0, -math.log(f.frequency_ratio))  # writing less than before
        - 1.2 * (answered - 0.5))
    engagement = _sigmoid(
        -0.4
        + 2.6 * (answered - 0.3)
        - 0.9 * min(f.days_silent, 90) / 30
        + 1.5 * (f.sentiment - 0.5)
        + 0.3 * math.log(f.frequency_ratio)
        - 0.3 * min(f.negative_outcomes, 4))
    return Prediction(engagement=engagement, churn_risk=churn, churn_band=churn_band(churn))


def predict(facts: CustomerFacts, now: datetime) -> Prediction:
    """Return the customer's engagement and churn risk at `now`."""
    return from_features(features(facts, now))
