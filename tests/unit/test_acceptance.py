"""The feed's ranking model (domain/proactive/acceptance.py): the prior alone, acceptances and
rejections moving it, decay by age, the outcome labels' credit, and one tenant's decisions never
reaching another's estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from production.domain.proactive import acceptance
from production.domain.proactive.acceptance import Decision, Evidence

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CHURN = ("churn_risk", "outbound_message")


def decided(status: str, outcome: str | None, *, days_ago: float = 0.0, tenant: str = "t1",
            pair: tuple[str, str] = CHURN, by: str | None = "ana") -> Decision:
    return Decision(tenant, pair[0], pair[1], status, outcome, by,
                    NOW - timedelta(days=days_ago))


def test_with_no_evidence_the_acceptance_is_the_proposers_confidence() -> None:
    assert acceptance.acceptance(None, prior_mean=0.7) == pytest.approx(0.7)
    got = acceptance.calibrate(trigger="silence", action="draft", confidence=0.6,
                               urgency=0.5, table={})
    assert (got.acceptance, got.evidence, got.score) == (0.6, 0, 0.3)


def test_accepts_raise_it_and_rejects_sink_it_toward_what_people_did() -> None:
    accepts = acceptance.evidence([decided("executed", "EXECUTION_SUCCEEDED")] * 8,
                                  tenant_id="t1", now=NOW)
    rejects = acceptance.evidence([decided("dismissed", "IDEA_REJECTED")] * 8,
                                  tenant_id="t1", now=NOW)
    assert accepts[CHURN] == Evidence(8.0, 0.0, 8)
    up = acceptance.acceptance(accepts[CHURN], prior_mean=0.5, prior_strength=2)
    down = acceptance.acceptance(rejects[CHURN], prior_mean=0.5, prior_strength=2)
    assert up == pytest.approx((1 + 8) / 10) and down == pytest.approx(1 / 10)


def test_an_old_decision_weighs_half_per_half_life() -> None:
    old = acceptance.evidence([decided("dismissed", "IDEA_REJECTED", days_ago=30)],
                              tenant_id="t1", now=NOW, half_life_days=30)
    assert old[CHURN].rejected == pytest.approx(0.5) and old[CHURN].count == 1
    # A recent acceptance outweighs two old rejections: a change of mind shows.
    mixed = acceptance.evidence(
        [decided("dismissed", "IDEA_REJECTED", days_ago=90)] * 2
        + [decided("executed", "IDEA_EDITED", days_ago=1)], tenant_id="t1", now=NOW,
        half_life_days=30)
    assert acceptance.acceptance(mixed[CHURN], prior_mean=0.5) > 0.5
    with pytest.raises(ValueError):
        acceptance.evidence([], tenant_id="t1", now=NOW, half_life_days=0)


def test_decisions_after_now_and_of_other_tenants_count_for_nothing() -> None:
    other = [decided("dismissed", "IDEA_REJECTED", tenant="t2")] * 20
    future = [decided("dismissed", "IDEA_REJECTED", days_ago=-1)]
    assert acceptance.evidence(other + future, tenant_id="t1", now=NOW) == {}
    mine = acceptance.evidence([*other, decided("executed", None)], tenant_id="t1", now=NOW)
    assert mine == {CHURN: Evidence(1.0, 0.0, 1)}


@pytest.mark.parametrize(("status", "outcome", "by", "credit"), [
    ("executed", "EXECUTION_SUCCEEDED", "ana", 1.0),
    ("executed", "IDEA_EDITED", "ana", 1.0),
    ("executed", "EXECUTION_FAILED", "ana", 1.0),
    ("executed", None, "ana", 1.0),
    ("executed", "NO_RESPONSE", "ana", 0.5),
    ("executed", "NEGATIVE_RESPONSE", "ana", 0.0),
    ("dismissed", "IDEA_REJECTED", "ana", 0.0),
    ("executed", "EXECUTION_SUCCEEDED", "fte-agent", None),  # autopilot: no one decided
    ("expired", None, "expiry", None),
])
def test_the_outcome_labels_credit(status: str, outcome: str | None, by: str,
                                   credit: float | None) -> None:
    assert acceptance.credit(status=status, outcome=outcome, decided_by=by) == credit


def test_pairs_are_estimated_apart() -> None:
    table = acceptance.evidence(
        [decided("dismissed", "IDEA_REJECTED", pair=("stalled_ticket", "change_ticket"))] * 5,
        tenant_id="t1", now=NOW)
    sunk = acceptance.calibrate(trigger="stalled_ticket", action="change_ticket",
                                confidence=0.9, urgency=1.0, table=table)
    kept = acceptance.calibrate(trigger="stalled_ticket", action="follow_up_task",
                                confidence=0.5, urgency=1.0, table=table)
    assert sunk.evidence == 5 and kept.evidence == 0 and sunk.score < kept.score
