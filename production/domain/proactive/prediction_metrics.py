"""How good a probability is against known outcomes: AUC, precision at the top 10%, a
reliability table and the Brier score. Pure; used by `fte eval-predictions`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int
    mean_predicted: float | None
    observed_rate: float | None


@dataclass(frozen=True)
class Scorecard:
    count: int
    base_rate: float
    auc: float
    precision_at_10: float
    brier: float
    reliability: tuple[Bin, ...]


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Return the area under the ROC curve: the chance that a random positive scores above a
    random negative (ties count half). 0.5 when either class is missing."""
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return 0.5
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum = 0.0
    i = 0
    while i < len(order):  # average ranks over ties (Mann-Whitney U)
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        rank = (i + j) / 2 + 1
        rank_sum += rank * sum(labels[order[k]] for k in range(i, j + 1))
        i = j + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def precision_at(scores: Sequence[float], labels: Sequence[bool], fraction: float) -> float:
    """Return the share of positives among the top `fraction` by score (ties broken by
    position, so the result does not depend on a sort's luck)."""
    top = max(1, round(len(scores) * fraction))
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:top]
    return sum(labels[i] for i in ranked) / top


def reliability(scores: Sequence[float], labels: Sequence[bool], bins: int = 10) -> tuple[Bin, ...]:
    """Return equal-width bins of predicted probability, each with its mean prediction and the
    observed rate of positives (calibrated: the two agree)."""
    out = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, p in enumerate(scores)
                   if low <= p < high or (b == bins - 1 and p == 1.0)]
        n = len(members)
        out.append(Bin(low=low, high=high, count=n,
                       mean_predicted=sum(scores[i] for i in members) / n if n else None,
                       observed_rate=sum(labels[i] for i in members) / n if n else None))
    return tuple(out)


def scorecard(scores: Sequence[float], labels: Sequence[bool]) -> Scorecard:
    """Return every figure for these probabilities and outcomes."""
    n = len(scores)
    return Scorecard(count=n, base_rate=sum(labels) / n if n else 0.0, auc=auc(scores, labels),
                     precision_at_10=precision_at(scores, labels, 0.10),
                     brier=sum((p - y) ** 2 for p, y in zip(scores, labels, strict=True)) / n
                     if n else 0.0,
                     reliability=reliability(scores, labels))
