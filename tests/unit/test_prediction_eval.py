"""`fte eval-predictions`: seeded synthetic histories with known outcomes, and the figures the
predictions earn on them. Pure: a fixed instant, no database."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

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


def test_the_command_prints_the_report_and_refuses_a_tiny_population() -> None:
    # A process of its own: the command configures the logging of the process it runs in.
    def fte(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "production.cli", "eval-predictions", *args],
                              capture_output=True, text=True, timeout=120, check=False)

    ran = fte("--customers", "400", "--seed", "2")
    assert ran.returncode == 0, ran.stderr
    assert "Churn risk (60 days) vs churned" in ran.stdout
    assert fte("--customers", "5").returncode == 2
