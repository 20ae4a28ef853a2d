"""How the "What should I do next?" feed is ordered: score = confidence x urgency.

Confidence is the proposer's (how sure it is the action fits the facts). Urgency is how much it
matters now, in [0, 1]: the larger of the trigger's own urgency (a stalled ticket by its
priority, a churn risk by its probability) and the customer's health (100 - score, over 100,
when the firing's facts carry the health score). Both stay in the row, so the feed shows why
one card sits above another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from production.domain.proactive.firing import TriggerName

_BY_PRIORITY = {"urgent": 1.0, "high": 0.85, "medium": 0.6, "low": 0.4}
_BASE: dict[str, float] = {
    TriggerName.STALLED_TICKET: 0.6,
    TriggerName.PROMISE_NOT_KEPT: 0.8,
    TriggerName.SENTIMENT_FALLING: 0.6,
    TriggerName.REPEAT_CONTACT: 0.6,
    TriggerName.CHURN_RISK: 0.8,
    TriggerName.SILENCE: 0.5,
    TriggerName.REACTIVATED: 0.4,
    TriggerName.DUPLICATE_CUSTOMER: 0.3,
    TriggerName.SALES_SIGNAL: 0.7,
}
DEFAULT_URGENCY = 0.5


@dataclass(frozen=True)
class Urgency:
    value: float
    source: str  # "trigger" or "health"


def _unit(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return min(1.0, max(0.0, number))


def health_score(facts: Mapping[str, Any]) -> float | None:
    """Return the health score (0-100) the facts carry, as `health_score` or `health.score`."""
    health = facts.get("health")
    raw = health.get("score") if isinstance(health, Mapping) else facts.get("health_score")
    unit = _unit(float(raw) / 100) if isinstance(raw, int | float) else None
    return None if unit is None else unit * 100


def urgency(trigger: str, facts: Mapping[str, Any]) -> Urgency:
    """Return how urgent the firing is, in [0, 1], and where that came from."""
    base = _BASE.get(trigger, DEFAULT_URGENCY)
    if trigger == TriggerName.STALLED_TICKET:
        base = _BY_PRIORITY.get(str(facts.get("priority", "")), base)
    elif trigger == TriggerName.CHURN_RISK:
        probability = _unit(facts.get("probability"))
        base = base if probability is None else probability
    score = health_score(facts)
    if score is not None and (100 - score) / 100 > base:
        return Urgency(round((100 - score) / 100, 4), "health")
    return Urgency(round(base, 4), "trigger")


def score(confidence: float, urgency_value: float) -> float:
    """Return the feed's ranking score of a suggestion."""
    return round(confidence * urgency_value, 4)
