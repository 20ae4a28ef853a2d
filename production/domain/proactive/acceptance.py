"""How likely a person is to accept a suggestion, learned from the tenant's past decisions
(issue 20 §2): per (trigger, action), a Beta-Bernoulli estimate with exponential decay by age.

* The prior is the proposer's own confidence, worth `prior_strength` decisions: with no
  evidence the calibrated acceptance *is* the confidence (the feed ranks as it did before), and
  each decision moves it toward what people actually did with that kind of suggestion.
* A decision of age `a` weighs 0.5 ** (a / half_life): old habits fade, a change of mind shows.
* Credit (OutcomeTaxonomyV1 on care_suggestions): EXECUTION_SUCCEEDED / IDEA_EDITED (or an
  `executed` row without a label) and EXECUTION_FAILED count as accepted (the person took the
  idea; a failed delivery is the executor's fault, not the idea's). IDEA_REJECTED / `dismissed`
  count as rejected. NO_RESPONSE counts as half: the person accepted it but the customer did
  not take it up, which is weak evidence either way. NEGATIVE_RESPONSE counts as rejected: an
  idea that makes customers answer badly should sink even though someone approved it.
  Autopilot's own executions and expiries are no one's decision and count for nothing.

Pure and deterministic: the caller passes the decisions and `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

DEFAULT_HALF_LIFE_DAYS = 30.0
DEFAULT_PRIOR_STRENGTH = 2.0
AUTOPILOT = "fte-agent"

_CREDIT: dict[str, float] = {
    "EXECUTION_SUCCEEDED": 1.0, "IDEA_EDITED": 1.0, "EXECUTION_FAILED": 1.0,
    "IDEA_REJECTED": 0.0, "NO_RESPONSE": 0.5, "NEGATIVE_RESPONSE": 0.0,
}

Pair = tuple[str, str]  # (trigger, action)


@dataclass(frozen=True)
class Decision:
    """One past suggestion's end, as the outcomes query reads it."""

    tenant_id: str
    trigger: str
    action: str
    status: str  # executed | dismissed (| expired: ignored)
    outcome: str | None
    decided_by: str | None
    decided_at: datetime


@dataclass(frozen=True)
class Evidence:
    accepted: float  # decayed weight of acceptances
    rejected: float  # decayed weight of rejections
    count: int  # decisions behind it, undecayed


NONE = Evidence(0.0, 0.0, 0)


def credit(*, status: str, outcome: str | None, decided_by: str | None) -> float | None:
    """Return how much of an acceptance the decision is (0..1), or None if it is none."""
    if decided_by == AUTOPILOT or status not in ("executed", "dismissed"):
        return None
    if outcome is None:
        return 1.0 if status == "executed" else 0.0
    return _CREDIT.get(outcome, 1.0 if status == "executed" else 0.0)


def weight(*, age_days: float, half_life_days: float) -> float:
    """Return the decay weight of a decision `age_days` old (a future one weighs 1)."""
    return float(0.5 ** (max(0.0, age_days) / half_life_days))


def evidence(decisions: Iterable[Decision], *, tenant_id: str, now: datetime,
             half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> dict[Pair, Evidence]:
    """Return the tenant's decayed evidence per (trigger, action); other tenants' decisions and
    decisions after `now` are ignored."""
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    found: dict[Pair, Evidence] = {}
    for d in decisions:
        if d.tenant_id != tenant_id or d.decided_at > now:
            continue
        got = credit(status=d.status, outcome=d.outcome, decided_by=d.decided_by)
        if got is None:
            continue
        w = weight(age_days=(now - d.decided_at).total_seconds() / 86_400,
                   half_life_days=half_life_days)
        was = found.get((d.trigger, d.action), NONE)
        found[(d.trigger, d.action)] = Evidence(was.accepted + w * got,
                                                was.rejected + w * (1 - got), was.count + 1)
    return found


def acceptance(seen: Evidence | None, *, prior_mean: float,
               prior_strength: float = DEFAULT_PRIOR_STRENGTH) -> float:
    """Return the posterior mean acceptance: Beta(k*m + a, k*(1-m) + r)."""
    mean = min(1.0, max(0.0, prior_mean))
    got = seen or NONE
    total = prior_strength + got.accepted + got.rejected
    if total <= 0:
        return mean
    return (prior_strength * mean + got.accepted) / total


@dataclass(frozen=True)
class Calibrated:
    acceptance: float
    evidence: int
    score: float


def calibrate(*, trigger: str, action: str, confidence: float, urgency: float,
              table: Mapping[Pair, Evidence],
              prior_strength: float = DEFAULT_PRIOR_STRENGTH) -> Calibrated:
    """Return a suggestion's calibrated acceptance, its evidence count and its feed score
    (calibrated acceptance x urgency)."""
    seen = table.get((trigger, action))
    p = acceptance(seen, prior_mean=confidence, prior_strength=prior_strength)
    return Calibrated(round(p, 4), seen.count if seen else 0, round(p * urgency, 4))
