"""The health score, the predictions, the PerceptionScheduler and one whole look, pure: every
instant is passed in, nothing reads a clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from production.config import ProactiveSettings
from production.domain.proactive import health, predictions
from production.domain.proactive.assessment import Assessor, Stored
from production.domain.proactive.facts import CustomerFacts, InboundFacts, PriorHealth, TicketFacts
from production.domain.proactive.health import HealthWeights
from production.domain.proactive.perception import Heat, PerceptionScheduler
from production.domain.proactive.prediction_metrics import auc, precision_at, reliability

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
DAY = timedelta(days=1)
CONTENT = CustomerFacts(tenant_id="t", customer_id=UUID(int=1), created_at=NOW - 200 * DAY,
                        care_state="active", last_inbound_at=NOW - 2 * DAY, inbound_30d=3,
                        inbound_prev_30d=2, replies_90d=4, replies_answered_90d=3,
                        recent=(InboundFacts(UUID(int=10), NOW - 2 * DAY, 0.6),))


def tickets(n: int, age: timedelta) -> tuple[TicketFacts, ...]:
    return tuple(TicketFacts(ticket_id=UUID(int=100 + i), number=f"TKT-{i}", priority="medium",
                             status="open", created_at=NOW - age) for i in range(n))


# --- the health score ---------------------------------------------------------------------------


def test_a_content_customer_scores_100_in_the_good_band_with_seven_factors() -> None:
    scored = health.score(CONTENT, NOW)
    assert (scored.score, scored.band) == (100, "good")
    assert [f.factor for f in scored.factors] == list(HealthWeights().points())
    assert sum(f.max_points for f in scored.factors) == 100


def test_the_breakdown_says_what_each_lost_point_is_for() -> None:
    scored = health.score(replace(CONTENT, tickets=tickets(2, 9 * DAY), escalation_open=True),
                          NOW)
    labels = {f.factor: f.label for f in scored.factors}
    assert labels["unresolved_tickets"] == "\u221210: two tickets unresolved for 9 days"
    assert labels["escalations"] == "\u221215: an escalation is open: a person must handle it"
    assert labels["recency"] == "+20: last message 2 days ago"
    assert scored.score == 100 - 10 - 15 and scored.band == "good"
    assert scored.breakdown()[3]["label"] == labels["unresolved_tickets"]


def test_silence_unhappiness_and_rejections_bring_a_customer_to_poor() -> None:
    unhappy = replace(CONTENT, last_inbound_at=NOW - 50 * DAY, inbound_30d=0, inbound_prev_30d=5,
                      negative_outcomes_90d=3, replies_answered_90d=0, escalation_open=True,
                      recent=tuple(InboundFacts(UUID(int=20 + i), NOW - (52 - i) * DAY, s)
                                   for i, s in enumerate((0.4, 0.2, 0.1))))
    scored = health.score(unhappy, NOW)
    assert scored.band == "poor" and scored.score < 40
    assert all(0 <= f.points <= f.max_points for f in scored.factors)


def test_weights_are_settings_that_must_add_up_to_100() -> None:
    heavy = HealthWeights(recency=40, sentiment=10, escalations=10, unresolved_tickets=10,
                          contact_frequency=10, negative_outcomes=10, engagement=10)
    silent = replace(CONTENT, last_inbound_at=NOW - 70 * DAY)
    assert health.score(silent, NOW, heavy).score == 60
    with pytest.raises(ValueError, match="add up to 100"):
        HealthWeights(recency=50)
    with pytest.raises(ValueError, match="add up to 100"):
        ProactiveSettings(health_weights={**HealthWeights().points(), "recency": 30})
    with pytest.raises(ValueError, match="health_weights needs exactly"):
        ProactiveSettings(health_weights={"recency": 100})


@given(days=st.floats(0, 400), n_tickets=st.integers(0, 6), negative=st.integers(0, 9),
       answered=st.integers(0, 10), sentiment=st.floats(0, 1), escalated=st.booleans())
def test_the_score_is_always_the_sum_of_its_factors_within_0_and_100(
        days: float, n_tickets: int, negative: int, answered: int, sentiment: float,
        escalated: bool) -> None:
    f = replace(CONTENT, last_inbound_at=NOW - timedelta(days=days), tickets=tickets(
        n_tickets, timedelta(days=days)), negative_outcomes_90d=negative, replies_90d=10,
        replies_answered_90d=answered, escalation_open=escalated,
        recent=(InboundFacts(UUID(int=5), NOW - DAY, sentiment),))
    scored = health.score(f, NOW)
    assert 0 <= scored.score <= 100 and scored.score == sum(x.points for x in scored.factors)
    p = predictions.predict(f, NOW)
    assert 0 < p.churn_risk < 1 and 0 < p.engagement < 1


def test_churn_risk_rises_with_silence_and_engagement_with_answers() -> None:
    risks = [predictions.predict(replace(CONTENT, last_inbound_at=NOW - d * DAY), NOW).churn_risk
             for d in (1, 15, 30, 60)]
    assert risks == sorted(risks) and predictions.churn_band(risks[0]) == "low"
    engaged = [predictions.predict(replace(CONTENT, replies_answered_90d=a), NOW).engagement
               for a in (0, 2, 4)]
    assert engaged == sorted(engaged)


# --- the PerceptionScheduler ------------------------------------------------------------------


SCHEDULER = PerceptionScheduler()


def test_recent_contact_or_a_falling_score_is_hot_two_weeks_warm_and_older_cold() -> None:
    assert SCHEDULER.heat(CONTENT, NOW)[0] is Heat.HOT
    week = replace(CONTENT, last_inbound_at=NOW - 7 * DAY)
    assert SCHEDULER.heat(week, NOW)[0] is Heat.WARM
    assert SCHEDULER.heat(week, NOW, trend=-6)[0] is Heat.HOT
    old = replace(CONTENT, last_inbound_at=NOW - 40 * DAY)
    assert SCHEDULER.heat(old, NOW)[0] is Heat.COLD
    assert SCHEDULER.heat(replace(old, escalation_open=True), NOW)[0] is Heat.HOT
    looks = [SCHEDULER.next_look(f, NOW).next_look_at - NOW for f in (CONTENT, week, old)]
    assert looks == [timedelta(minutes=15), timedelta(hours=6), timedelta(hours=24)]


def test_a_trigger_coming_due_brings_the_next_look_forward_but_not_into_the_past() -> None:
    old = replace(CONTENT, last_inbound_at=NOW - 40 * DAY)
    look = SCHEDULER.next_look(old, NOW, upcoming=NOW + timedelta(hours=3))
    assert look.next_look_at == NOW + timedelta(hours=3) and "comes due" in look.reason
    assert SCHEDULER.next_look(old, NOW, upcoming=NOW).next_look_at == NOW + SCHEDULER.soonest


def test_an_unchanged_customer_recomputes_nothing_until_a_deadline_or_a_day_passes() -> None:
    same = dict(facts_hash="h", stored_hash="h", stale_at=None, computed_at=NOW - DAY / 2)
    assert not SCHEDULER.needs_recompute(now=NOW, **same)  # type: ignore[arg-type]
    assert SCHEDULER.needs_recompute(now=NOW, **{**same, "facts_hash": "other"})  # type: ignore[arg-type]
    assert SCHEDULER.needs_recompute(now=NOW, **{**same, "stale_at": NOW})  # type: ignore[arg-type]
    assert SCHEDULER.needs_recompute(now=NOW + DAY, **same)  # type: ignore[arg-type]


def test_the_facts_hash_ignores_what_the_proactive_layer_wrote_itself() -> None:
    prior = PriorHealth(score=50, band="average", churn_band="low", computed_at=NOW)
    assert replace(CONTENT, prior=prior, last_fired={"silence": NOW}).observed_hash() == \
        CONTENT.observed_hash()
    assert replace(CONTENT, inbound_30d=4).observed_hash() != CONTENT.observed_hash()


def test_one_look_scores_fires_and_a_second_with_the_same_facts_does_nothing() -> None:
    assessor = Assessor()
    stalled = replace(CONTENT, tickets=tickets(1, 10 * DAY))
    first = assessor.assess(stalled, NOW, Stored())
    assert first.recomputed and first.health is not None and first.firings
    assert first.look.heat is Heat.HOT and first.changed_score
    again = assessor.assess(stalled, NOW + timedelta(minutes=15), Stored(
        facts_hash=first.facts_hash, stale_at=first.stale_at, evaluated_at=NOW))
    assert not again.recomputed and again.firings == () and again.health is None


# --- the evaluation's figures -------------------------------------------------------------------


def test_auc_precision_and_reliability_on_known_answers() -> None:
    assert auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    assert auc([0.5, 0.5], [False, True]) == 0.5
    assert precision_at([0.9, 0.8, 0.1, 0.2], [True, False, False, False], 0.5) == 0.5
    bins = reliability([0.05, 0.15, 0.95, 1.0], [False, True, True, True], bins=10)
    assert (bins[0].count, bins[0].observed_rate) == (1, 0.0)
    assert (bins[9].count, bins[9].observed_rate) == (2, 1.0)
    assert bins[5].mean_predicted is None
