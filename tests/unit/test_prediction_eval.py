"""`fte eval-predictions`: seeded synthetic histories with known outcomes, and the figures the
predictions earn on them. Pure: a fixed instant, no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from production.cli import main
from production.domain.proactive import synthetic
from production.services import prediction_eval

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_the_same_seed_gives_the_same_customers_and_another_seed_others() -> None:
    first = synthetic.generate(50, seed=3, now=NOW)
    assert first == synthetic.generate(50, seed=3, now=NOW)
    assert first != synthetic.generate(50, seed=4, now=NOW)
    facts = [c.facts for c in first]
    assert all(m.at <= NOW for f in facts for m in f.recent)
    assert all(f.last_inbound_at is None or f.last_inbound_at <= NOW for f in facts)
    assert 0 < sum(c.churned for c in first) < 50


def test_the_predictions_rank_better_than_chance_and_every_figure_is_reported() -> None:
    result = prediction_eval.evaluate(customers=3000, seed=11, now=NOW)
    assert result == prediction_eval.evaluate(customers=3000, seed=11, now=NOW)
    for name in ("churn_risk", "engagement", "health_score_for_churn"):
        card = result[name]
        assert 0.55 < card["auc"] <= 1, name
        assert len(card["reliability"]) == 10
        assert sum(b["count"] for b in card["reliability"]) == 3000
    text = prediction_eval.report(result)
    assert "AUC" in text and "precision@10%" in text and "mean predicted" in text


def test_the_command_prints_the_report_and_refuses_a_tiny_population(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval-predictions", "--customers", "400", "--seed", "2"]) == 0
    assert "Churn risk (60 days) vs churned" in capsys.readouterr().out
    assert main(["eval-predictions", "--customers", "5"]) == 2
