"""The DecisionCostGate's rule (seeds 5.3): is a model run worth its cost right now?

Pure: the caller (production/care/cost_gate.py) reads the facts and passes `now`. The answer is
ALLOW, DEFER (look again at `retry_at`) or SKIP, with a reason code from `REASONS` (a metric
label: bounded). The checks, most final first:

1. the tenant's tier has no model budget at all              -> SKIP  no_budget
2. the estimate alone is larger than the tier's day allows   -> SKIP  over_cap
3. the same trigger ran for the same customer lately         -> SKIP  recent
   (the run then saw these facts; a new firing within the window adds nothing)
4. the customer already has `max_pending` suggestions open   -> DEFER saturated
   (a person acts on them first; looked at again after `saturation_retry`)
5. the day's budget (tokens, and their estimated cost) would
   be passed by this run                                     -> DEFER budget_spent
   (until the tenant's next local day, when the budget starts afresh)
6. otherwise                                                 -> ALLOW within_budget

The reply path (`REPLY_TRIGGER`) is a customer waiting: neither recency nor saturation applies
to it, and it may use the tier's whole day, where the proactive layer may use only
`proactive_share` of it, so suggestions never starve replies. Step 5 here reads a snapshot; the
stateful gate's reservation (one conditional UPDATE) is what makes it hold under concurrent
runs, and its refusal is the same DEFER budget_spent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from production.domain.proactive.cost import CostDecision, CostVerdict

REPLY_TRIGGER = "reply"  # the reply path's budget checks, audited like the triggers'

NO_BUDGET = "no_budget"
OVER_CAP = "over_cap"
RECENT = "recent"
SATURATED = "saturated"
BUDGET_SPENT = "budget_spent"
WITHIN_BUDGET = "within_budget"
REASONS = (NO_BUDGET, OVER_CAP, RECENT, SATURATED, BUDGET_SPENT, WITHIN_BUDGET)
# The decision each reason comes with (the metric's label pairs, shown at zero before any).
DECISION_OF = {NO_BUDGET: CostDecision.SKIP, OVER_CAP: CostDecision.SKIP,
               RECENT: CostDecision.SKIP, SATURATED: CostDecision.DEFER,
               BUDGET_SPENT: CostDecision.DEFER, WITHIN_BUDGET: CostDecision.ALLOW}


class Tier(StrEnum):
    """A tenant's plan (tenants.model_tier, migration 018)."""

    FREE = "free"
    STANDARD = "standard"
    PREMIUM = "premium"


class TierPolicy(BaseModel):
    """What one tier may spend on the model per local day, and how eagerly the proactive layer
    looks again."""

    model_config = ConfigDict(frozen=True)

    daily_tokens: int = Field(ge=0)
    daily_cost_usd: float = Field(ge=0)  # at the configured price per 1k tokens
    proactive_share: float = Field(ge=0, le=1)  # of the day's budget; replies may use all
    recency_s: float = Field(ge=0)  # the same trigger for the same customer: not again within
    max_pending: int = Field(ge=0)  # open suggestions of a customer before it waits

    def token_limit(self, *, price_per_1k: float, reply: bool) -> int:
        """Return the tokens this path may have used by the end of a run today: the tokens
        cap, the cost cap in tokens at `price_per_1k` (the lower wins), and for the proactive
        layer its share."""
        cap = self.daily_tokens
        if price_per_1k > 0:
            # The epsilon: $0.003 at $0.001 per 1k is 3,000 tokens, not 2,999.99... A price
            # so small that the cost cap overflows to infinity leaves the tokens cap.
            by_cost = self.daily_cost_usd / price_per_1k * 1000 + 1e-6
            if by_cost < cap:
                cap = math.floor(by_cost)
        return cap if reply else math.floor(cap * self.proactive_share)


def default_tiers() -> dict[Tier, TierPolicy]:
    """Return the tiers' defaults (FTE_BUDGET_TIERS replaces them)."""
    return {
        Tier.FREE: TierPolicy(daily_tokens=200_000, daily_cost_usd=0.10, proactive_share=0.2,
                              recency_s=7 * 86_400, max_pending=1),
        Tier.STANDARD: TierPolicy(daily_tokens=10_000_000, daily_cost_usd=5.0,
                                  proactive_share=0.5, recency_s=86_400, max_pending=3),
        Tier.PREMIUM: TierPolicy(daily_tokens=100_000_000, daily_cost_usd=50.0,
                                 proactive_share=0.8, recency_s=4 * 3_600, max_pending=5),
    }


def estimated_cost_usd(tokens: int, price_per_1k: float) -> float:
    """Return the estimated cost of `tokens` model tokens in US dollars."""
    return tokens * price_per_1k / 1000


@dataclass(frozen=True)
class CostFacts:
    """What the gate knows when it decides, all of the tenant's current local day."""

    trigger: str
    estimated_tokens: int
    tokens_used: int  # the tenant's tokens reserved or spent today, every path
    last_allowed_at: datetime | None  # the same trigger for the same customer; None: never
    pending_suggestions: int  # the customer's open suggestions
    budget_resets_at: datetime  # the start of the tenant's next local day

    def __post_init__(self) -> None:
        if self.estimated_tokens <= 0:
            raise ValueError("a model run is estimated at one token or more")
        if self.tokens_used < 0 or self.pending_suggestions < 0:
            raise ValueError("counts cannot be negative")
        if not self.trigger:
            raise ValueError("a decision names its trigger")

    @property
    def reply(self) -> bool:
        return self.trigger == REPLY_TRIGGER


def decide(facts: CostFacts, policy: TierPolicy, *, price_per_1k: float, now: datetime,
           saturation_retry: timedelta) -> CostVerdict:
    """Return ALLOW, DEFER (with when to look again) or SKIP, with the reason code."""
    limit = policy.token_limit(price_per_1k=price_per_1k, reply=facts.reply)
    if limit == 0:
        return CostVerdict(CostDecision.SKIP, NO_BUDGET)
    if facts.estimated_tokens > limit:
        return CostVerdict(CostDecision.SKIP, OVER_CAP)
    if not facts.reply:
        last = facts.last_allowed_at
        if last is not None and now - last < timedelta(seconds=policy.recency_s):
            return CostVerdict(CostDecision.SKIP, RECENT)
        if facts.pending_suggestions >= policy.max_pending:
            return CostVerdict(CostDecision.DEFER, SATURATED, now + saturation_retry)
    if facts.tokens_used + facts.estimated_tokens > limit:
        return spent(facts.budget_resets_at)
    return CostVerdict(CostDecision.ALLOW, WITHIN_BUDGET)


def spent(budget_resets_at: datetime) -> CostVerdict:
    """Return the verdict on a run the day's budget has no room for: wait for the next day."""
    return CostVerdict(CostDecision.DEFER, BUDGET_SPENT, budget_resets_at)
