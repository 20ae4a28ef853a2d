"""The model budget's settings (issue 19 §3): what each tier may spend per day, the price the
cost is estimated at, and what a reply does once the day's budget is spent."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from production.config.fields import group as _group
from production.domain.proactive.cost_gate import Tier, TierPolicy, default_tiers


class BudgetSettings(BaseSettings):
    """FTE_BUDGET_*: the DecisionCostGate and the reply path's guard."""

    model_config = _group("FTE_BUDGET_")

    # A reply once the tenant's budget for its local day is spent: answered by the local
    # deterministic model ("local"), or held unanswered until the next local day ("hold").
    # Either way no model call passes the cap (fail closed).
    exhausted: Literal["local", "hold"] = "local"
    # The blended list price (input and output) the cost estimate uses, US dollars per 1,000
    # tokens (gpt-4o-mini at a typical 4:1 input:output mix is about $0.0003).
    price_per_1k_tokens: float = Field(0.0003, ge=0)
    # Per tier (tenants.model_tier): FTE_BUDGET_TIERS='{"free": {"daily_tokens": 200000,
    # "daily_cost_usd": 0.1, "proactive_share": 0.2, "recency_s": 604800, "max_pending": 1}}';
    # a tier not named keeps its default.
    tiers: dict[Tier, TierPolicy] = Field(default_factory=default_tiers)
    # What a reply's run is reserved at before the model is called; settled to the tokens the
    # run really used once it ends.
    reply_estimate_tokens: int = Field(4_000, ge=1)
    # A customer with as many open suggestions as the tier allows is looked at again after this.
    saturation_retry_s: float = Field(6 * 3_600.0, gt=0)

    @field_validator("tiers", mode="after")
    @classmethod
    def _every_tier(cls, value: dict[Tier, TierPolicy]) -> dict[Tier, TierPolicy]:
        return {**default_tiers(), **value}

    def policy(self, tier: str) -> TierPolicy:
        """Return the tier's policy; an unknown tier name gets the free tier's (fail closed)."""
        try:
            return self.tiers[Tier(tier)]
        except ValueError:
            return self.tiers[Tier.FREE]
