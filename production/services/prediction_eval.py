"""`fte eval-predictions`: the engagement and churn probabilities, and the health score as a
churn ranking, measured against synthetic histories with known outcomes
(`production/domain/proactive/synthetic.py`, whose rules are not the scorer's). Pure: no
database, no model; the same seed gives the same figures. specs/predictions.md reads them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from production.domain.proactive import health, predictions, synthetic
from production.domain.proactive.prediction_metrics import Scorecard, scorecard


def evaluate(*, customers: int, seed: int, now: datetime) -> dict[str, Any]:
    """Return the scorecards of churn risk, engagement and the health score (its shortfall
    from 100 ranking churners) over `customers` synthetic customers."""
    population = synthetic.generate(customers, seed=seed, now=now)
    churned = [c.churned for c in population]
    engaged = [c.engaged for c in population]
    predicted = [predictions.predict(c.facts, now) for c in population]
    shortfall = [(100 - health.score(c.facts, now).score) / 100 for c in population]
    cards: dict[str, Scorecard] = {
        "churn_risk": scorecard([p.churn_risk for p in predicted], churned),
        "engagement": scorecard([p.engagement for p in predicted], engaged),
        "health_score_for_churn": scorecard(shortfall, churned),
    }
    return {"customers": customers, "seed": seed, "now": now.isoformat(),
            **{name: asdict(card) for name, card in cards.items()}}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:5.1f}%"


def report(result: dict[str, Any]) -> str:
    """Return the figures as the text `fte eval-predictions` prints."""
    lines = [f"{result['customers']} synthetic customers, seed {result['seed']}, "
             f"as of {result['now']}"]
    titles = {"churn_risk": "Churn risk (60 days) vs churned",
              "engagement": "Engagement vs answered the next message",
              "health_score_for_churn": "Health score (100 - score) as a churn ranking"}
    for key, title in titles.items():
        card = result[key]
        lines += ["", title,
                  f"  base rate {_pct(card['base_rate'])}   AUC {card['auc']:.3f}   "
                  f"precision@10% {_pct(card['precision_at_10'])}   Brier {card['brier']:.3f}",
                  "  predicted      n   mean predicted   observed"]
        for b in card["reliability"]:
            lines.append(f"  {b['low']:.1f}-{b['high']:.1f}  {b['count']:6d}   "
                         f"{_pct(b['mean_predicted']):>14}   {_pct(b['observed_rate']):>8}")
    return "\n".join(lines)
