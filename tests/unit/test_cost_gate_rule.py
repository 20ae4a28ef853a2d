"""The DecisionCostGate's rule (production/domain/proactive/cost_gate.py): every branch, the
tiers' limits, the settings, and a property over random budgets, estimates and orderings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from production.config import BudgetSettings
from production.domain.proactive.cost import CostDecision, CostVerdict
from production.domain.proactive.cost_gate import (
    BUDGET_SPENT,
    NO_BUDGET,
    OVER_CAP,
    REASONS,
    RECENT,
    REPLY_TRIGGER,
    SATURATED,
    WITHIN_BUDGET,
    CostFacts,
    Tier,
    TierPolicy,
    decide,
    estimated_cost_usd,
)

NOW = datetime(2030, 6, 14, 15, 30, tzinfo=UTC)
RESETS = datetime(2030, 6, 15, tzinfo=UTC)
RETRY = timedelta(hours=6)
POLICY = TierPolicy(daily_tokens=10_000, daily_cost_usd=100.0, proactive_share=0.5,
                    recency_s=3_600, max_pending=2)


def facts(**overrides: object) -> CostFacts:
    values: dict[str, object] = {"trigger": "stalled_ticket", "estimated_tokens": 1_000,
                                 "tokens_used": 0, "last_allowed_at": None,
                                 "pending_suggestions": 0, "budget_resets_at": RESETS}
    values.update(overrides)
    return CostFacts(**values)  # type: ignore[arg-type]


def verdict(policy: TierPolicy = POLICY, price: float = 0.001, **overrides: object) -> CostVerdict:
    return decide(facts(**overrides), policy, price_per_1k=price, now=NOW, saturation_retry=RETRY)


def test_within_the_budget_a_run_is_allowed() -> None:
    assert verdict() == CostVerdict(CostDecision.ALLOW, WITHIN_BUDGET)
    # Exactly at the proactive limit (half of 10,000) still fits.
    assert verdict(tokens_used=4_000).allowed


def test_a_run_that_would_pass_the_days_budget_waits_for_the_next_local_day() -> None:
    assert verdict(tokens_used=4_001) == CostVerdict(CostDecision.DEFER, BUDGET_SPENT, RESETS)


def test_a_tier_without_budget_skips_every_run() -> None:
    none = POLICY.model_copy(update={"daily_tokens": 0})
    assert verdict(none) == CostVerdict(CostDecision.SKIP, NO_BUDGET)
    assert verdict(none, trigger=REPLY_TRIGGER) == CostVerdict(CostDecision.SKIP, NO_BUDGET)
    no_share = POLICY.model_copy(update={"proactive_share": 0.0})
    assert verdict(no_share).reason == NO_BUDGET  # proactive runs only
    assert verdict(no_share, trigger=REPLY_TRIGGER).allowed


def test_an_estimate_larger_than_the_whole_day_is_skipped_not_deferred() -> None:
    # Tomorrow's budget would not hold it either.
    assert verdict(estimated_tokens=5_001) == CostVerdict(CostDecision.SKIP, OVER_CAP)


def test_the_same_trigger_for_the_same_customer_lately_is_skipped() -> None:
    assert verdict(last_allowed_at=NOW - timedelta(minutes=59)) == CostVerdict(
        CostDecision.SKIP, RECENT)
    assert verdict(last_allowed_at=NOW - timedelta(hours=1)).allowed  # the window has passed


def test_a_customer_with_enough_open_suggestions_is_looked_at_later() -> None:
    assert verdict(pending_suggestions=2) == CostVerdict(CostDecision.DEFER, SATURATED,
                                                         NOW + RETRY)
    assert verdict(pending_suggestions=1).allowed


def test_the_checks_run_most_final_first() -> None:
    # Recent and saturated and spent: recent (a SKIP) wins; saturated before spent.
    assert verdict(last_allowed_at=NOW, pending_suggestions=9, tokens_used=9_999).reason == RECENT
    assert verdict(pending_suggestions=9, tokens_used=9_999).reason == SATURATED


def test_the_reply_path_may_use_the_whole_day_and_ignores_recency_and_saturation() -> None:
    reply = {"trigger": REPLY_TRIGGER, "last_allowed_at": NOW, "pending_suggestions": 99}
    assert verdict(tokens_used=8_000, **reply).allowed  # past the proactive half
    assert verdict(tokens_used=9_001, **reply) == CostVerdict(CostDecision.DEFER, BUDGET_SPENT,
                                                             RESETS)


def test_the_cost_cap_is_a_token_cap_at_the_configured_price() -> None:
    # $0.004 at $0.001 per 1k tokens: 4,000 tokens, below the 10,000 token cap.
    cheap = POLICY.model_copy(update={"daily_cost_usd": 0.004})
    assert cheap.token_limit(price_per_1k=0.001, reply=True) == 4_000
    assert cheap.token_limit(price_per_1k=0.001, reply=False) == 2_000
    assert verdict(cheap, tokens_used=1_001).reason == BUDGET_SPENT
    assert cheap.token_limit(price_per_1k=0.0, reply=True) == 10_000  # free: tokens only
    assert estimated_cost_usd(3_000, 0.0003) == pytest.approx(0.0009)
    # A price so small the cost cap overflows (hypothesis found it): the token cap holds.
    assert POLICY.token_limit(price_per_1k=5e-324, reply=True) == 10_000


@pytest.mark.parametrize("bad", [{"estimated_tokens": 0}, {"tokens_used": -1},
                                 {"pending_suggestions": -1}, {"trigger": ""}])
def test_facts_that_cannot_be_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        facts(**bad)


def test_the_tiers_differ_and_settings_fill_in_a_tier_not_named() -> None:
    tiers = BudgetSettings().tiers
    free, standard, premium = (tiers[t] for t in (Tier.FREE, Tier.STANDARD, Tier.PREMIUM))
    assert free.daily_tokens < standard.daily_tokens < premium.daily_tokens
    assert free.proactive_share < standard.proactive_share < premium.proactive_share
    assert free.recency_s > standard.recency_s > premium.recency_s
    custom = BudgetSettings(tiers={"free": {"daily_tokens": 7, "daily_cost_usd": 1,
                                            "proactive_share": 1, "recency_s": 0,
                                            "max_pending": 0}})
    assert custom.tiers[Tier.FREE].daily_tokens == 7
    assert custom.tiers[Tier.PREMIUM] == premium
    assert custom.policy("platinum") == custom.tiers[Tier.FREE]  # unknown: the least
    assert BudgetSettings().exhausted == "local"


def test_budget_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTE_BUDGET_EXHAUSTED", "hold")
    monkeypatch.setenv("FTE_BUDGET_PRICE_PER_1K_TOKENS", "0.002")
    monkeypatch.setenv("FTE_BUDGET_TIERS", '{"premium": {"daily_tokens": 5, '
                       '"daily_cost_usd": 1, "proactive_share": 0.5, "recency_s": 60, '
                       '"max_pending": 1}}')
    read = BudgetSettings()
    assert (read.exhausted, read.price_per_1k_tokens) == ("hold", 0.002)
    assert read.tiers[Tier.PREMIUM].daily_tokens == 5
    monkeypatch.setenv("FTE_BUDGET_EXHAUSTED", "spend")
    with pytest.raises(ValueError):
        BudgetSettings()


# --- Property: whatever the budgets, estimates and order, spend never passes the cap ---------

policies = st.builds(TierPolicy, daily_tokens=st.integers(0, 50_000),
                     daily_cost_usd=st.floats(0, 50, allow_nan=False),
                     proactive_share=st.floats(0, 1, allow_nan=False),
                     recency_s=st.floats(0, 86_400, allow_nan=False),
                     max_pending=st.integers(0, 4))
runs = st.lists(st.tuples(st.sampled_from([REPLY_TRIGGER, "stalled_ticket", "silence"]),
                          st.integers(1, 20_000), st.integers(0, 5),
                          st.integers(0, 3 * 86_400)), max_size=40)


@given(policy=policies, price=st.floats(0, 0.01, allow_nan=False), sequence=runs)
@settings(max_examples=300, deadline=None)
def test_whatever_the_order_the_allowed_runs_never_pass_the_cap(
    policy: TierPolicy, price: float, sequence: list[tuple[str, int, int, int]]
) -> None:
    used = 0
    cap = policy.token_limit(price_per_1k=price, reply=True)
    proactive_cap = policy.token_limit(price_per_1k=price, reply=False)
    assert proactive_cap <= cap
    for trigger, estimate, pending, ago_s in sequence:
        run = facts(trigger=trigger, estimated_tokens=estimate, tokens_used=used,
                    pending_suggestions=pending, last_allowed_at=NOW - timedelta(seconds=ago_s))
        answer = decide(run, policy, price_per_1k=price, now=NOW, saturation_retry=RETRY)
        assert answer.reason in REASONS
        assert (answer.retry_at is not None) == (answer.decision is CostDecision.DEFER)
        if answer.allowed:
            used += estimate
            assert used <= (cap if trigger == REPLY_TRIGGER else proactive_cap)
            # Less spent before never turns an ALLOW into something else (monotone).
            assert decide(facts(trigger=trigger, estimated_tokens=estimate, tokens_used=0,
                                pending_suggestions=pending,
                                last_allowed_at=run.last_allowed_at),
                          policy, price_per_1k=price, now=NOW, saturation_retry=RETRY).allowed
        elif answer.reason == BUDGET_SPENT:
            assert used + estimate > (cap if trigger == REPLY_TRIGGER else proactive_cap)
            assert answer.retry_at == RESETS
    assert used <= cap
