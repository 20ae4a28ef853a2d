"""The proactive layer's settings (issue 19): the triggers' SLA and thresholds, the health
score's weights and bands, and the PerceptionScheduler's cadence and caps. FTE_PROACTIVE_*."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings

from production.config.fields import group as _group
from production.domain.proactive.assessment import ProactiveRules
from production.domain.proactive.health import HealthWeights
from production.domain.proactive.perception import PerceptionScheduler
from production.domain.proactive.triggers import TriggerRules

PRIORITIES = ("urgent", "high", "medium", "low")


def _hours(urgent: float, high: float, medium: float, low: float) -> dict[str, float]:
    return dict(zip(PRIORITIES, (urgent, high, medium, low), strict=True))


def _per_priority(hours: dict[str, float]) -> dict[str, timedelta]:
    return {priority: timedelta(hours=value) for priority, value in hours.items()}


class ProactiveSettings(BaseSettings):
    model_config = _group("FTE_PROACTIVE_")

    # The scheduler's passes: the sweep (customers due by the PerceptionScheduler) and the
    # signal pass (customers something just happened to).
    sweep_interval_s: float = Field(300.0, gt=0)
    signal_interval_s: float = Field(5.0, gt=0)
    batch_size: int = Field(1_000, ge=1)
    parallel_batches: int = Field(2, ge=1)  # batches one sweep runs at once, a connection each
    cap_per_tenant: int = Field(5_000, ge=1)  # customers one sweep looks at per tenant
    lease_s: float = Field(600.0, gt=0)  # a claimed customer's look, before another may take it
    # SLA per priority, in hours (FTE_PROACTIVE_SLA_FIRST_RESPONSE_H='{"high": 2, ...}').
    sla_first_response_h: dict[str, float] = Field(default_factory=lambda: _hours(1, 4, 8, 24))
    sla_next_response_h: dict[str, float] = Field(default_factory=lambda: _hours(2, 8, 24, 48))
    sla_resolution_h: dict[str, float] = Field(default_factory=lambda: _hours(24, 72, 120, 240))
    task_due_days: float = Field(3.0, gt=0)
    promise_within_h: float = Field(48.0, gt=0)
    sentiment_messages: int = Field(3, ge=2)
    sentiment_drop: float = Field(0.25, gt=0, le=1)
    repeat_count: int = Field(3, ge=2)
    repeat_within_days: float = Field(14.0, gt=0)
    churn_band: str = Field("high", pattern="^(medium|high)$")
    transition_within_days: float = Field(7.0, gt=0)
    sales_within_days: float = Field(7.0, gt=0)
    # The health score: points per factor (adding up to 100) and the bands' edges.
    health_weights: dict[str, int] = Field(default_factory=lambda: HealthWeights().points())
    health_poor_below: int = Field(40, ge=1, le=100)
    health_good_from: int = Field(70, ge=1, le=100)
    # The PerceptionScheduler.
    hot_every_s: float = Field(900.0, gt=0)
    warm_every_s: float = Field(6 * 3600.0, gt=0)
    cold_every_s: float = Field(24 * 3600.0, gt=0)
    hot_contact_days: float = Field(2.0, gt=0)
    warm_contact_days: float = Field(14.0, gt=0)
    falling_by: int = Field(5, ge=1)
    recompute_every_h: float = Field(24.0, gt=0)

    @model_validator(mode="after")
    def _coherent(self) -> ProactiveSettings:
        for name in ("sla_first_response_h", "sla_next_response_h", "sla_resolution_h"):
            if set(getattr(self, name)) != set(PRIORITIES):
                raise ValueError(f"{name} needs a value for each of {', '.join(PRIORITIES)}")
        factors = set(HealthWeights().points())
        if set(self.health_weights) != factors:
            raise ValueError(f"health_weights needs exactly {', '.join(sorted(factors))}")
        self.rules()  # weights that do not add up to 100 stop here
        return self

    def rules(self) -> ProactiveRules:
        """Return the domain's rules these settings describe."""
        weights = HealthWeights(**self.health_weights, poor_below=self.health_poor_below,
                                good_from=self.health_good_from)
        return ProactiveRules(
            triggers=TriggerRules(
                first_response=_per_priority(self.sla_first_response_h),
                next_response=_per_priority(self.sla_next_response_h),
                resolution=_per_priority(self.sla_resolution_h),
                task_due_after=timedelta(days=self.task_due_days),
                promise_within=timedelta(hours=self.promise_within_h),
                sentiment_messages=self.sentiment_messages,
                sentiment_drop=self.sentiment_drop, repeat_count=self.repeat_count,
                repeat_within=timedelta(days=self.repeat_within_days),
                churn_band=self.churn_band,
                transition_within=timedelta(days=self.transition_within_days),
                sales_within=timedelta(days=self.sales_within_days)),
            weights=weights,
            perception=PerceptionScheduler(
                hot_every=timedelta(seconds=self.hot_every_s),
                warm_every=timedelta(seconds=self.warm_every_s),
                cold_every=timedelta(seconds=self.cold_every_s),
                hot_contact_within=timedelta(days=self.hot_contact_days),
                warm_contact_within=timedelta(days=self.warm_contact_days),
                falling_by=self.falling_by,
                recompute_every=timedelta(hours=self.recompute_every_h),
                cap_per_tenant=self.cap_per_tenant))
