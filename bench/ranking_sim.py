"""The feed's ranking on a simulated operator (issue 20 §2): does calibrated acceptance x
urgency put more of what a person accepts in the top 5 than the proposer's confidence x
urgency, and after how many decisions?

A seeded stream: each step a feed of FEED pending suggestions, drawn over ten (trigger, action)
pairs, each with a known acceptance rate (the operator's preference) and a proposer confidence
that is miscalibrated on purpose (it is sure of ticket changes people mostly reject, unsure of
merges people take). The operator decides one card of the feed, picked at random (they work the
whole queue, not only its top), accepting with the pair's rate; the decision goes into the
model at once (decisions two hours apart, the default 30-day half-life).

After N decisions (every N in 0..MAX) both orders are scored on the same EVAL fresh feeds:
precision@5 = the expected share of the top 5 the operator accepts (the mean of the true
rates; no sampling noise), averaged over SEEDS seeds. At N = MAX a calibration table compares
predicted acceptance, in bins, with the observed (sampled) accept rate, for the calibrated
estimate and the raw confidence. Pure Python, no database; `python bench/ranking_sim.py
[--honest] [--json]` (about 10 s).
"""

from __future__ import annotations

import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from production.domain.proactive import acceptance  # noqa: E402
from production.domain.proactive.acceptance import Decision  # noqa: E402

# (trigger, action): (the operator's true acceptance rate, the proposer's mean confidence)
PAIRS: dict[tuple[str, str], tuple[float, float]] = {
    ("churn_risk", "outbound_message"): (0.80, 0.60),
    ("stalled_ticket", "change_ticket"): (0.30, 0.85),  # rejects priority changes 70%
    ("stalled_ticket", "follow_up_task"): (0.70, 0.65),
    ("sentiment_falling", "internal_note"): (0.50, 0.70),
    ("silence", "draft"): (0.20, 0.75),
    ("sales_signal", "outbound_message"): (0.60, 0.55),
    ("repeat_contact", "follow_up_task"): (0.40, 0.70),
    ("duplicate_customer", "merge_customers"): (0.90, 0.40),
    ("promise_not_kept", "draft"): (0.75, 0.60),
    ("reactivated", "internal_note"): (0.15, 0.65),
}
FEED, TOP, EVAL, SEEDS, MAX = 20, 5, 30, 20, 200
CHECKPOINTS = (0, 10, 25, 50, 100, 200)
TENANT = "sim"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
STEP = timedelta(hours=2)
Card = tuple[tuple[str, str], float, float]  # pair, confidence, urgency


# --honest: the proposer's mean confidence is the true rate (does learning then cost anything?)
HONEST = "--honest" in sys.argv


def card(rng: random.Random) -> Card:
    pair = rng.choice(list(PAIRS))
    mean = PAIRS[pair][0] if HONEST else PAIRS[pair][1]
    confidence = min(1.0, max(0.0, mean + rng.uniform(-0.1, 0.1)))
    return pair, confidence, rng.uniform(0.3, 1.0)


def top(cards: list[Card], table: dict[acceptance.Pair, acceptance.Evidence],
        ranked: bool) -> list[Card]:
    def score(c: Card) -> float:
        if not ranked:
            return c[1] * c[2]
        return acceptance.calibrate(trigger=c[0][0], action=c[0][1], confidence=c[1],
                                    urgency=c[2], table=table).score
    return sorted(cards, key=score, reverse=True)[:TOP]


def precision(feeds: list[list[Card]], table: dict[acceptance.Pair, acceptance.Evidence],
              ranked: bool) -> float:
    shown = [c for f in feeds for c in top(f, table, ranked)]
    return sum(PAIRS[c[0]][0] for c in shown) / len(shown)


def oracle(feeds: list[list[Card]]) -> float:
    """Precision@5 ordering by the true rate x urgency: the ceiling of both scores."""
    shown = [c for f in feeds
             for c in sorted(f, key=lambda c: PAIRS[c[0]][0] * c[2], reverse=True)[:TOP]]
    return sum(PAIRS[c[0]][0] for c in shown) / len(shown)


Seed = tuple[list[float], list[float], list[tuple[float, float, int]], float]


def run_seed(seed: int) -> Seed:
    rng = random.Random(seed)
    feeds = [[card(rng) for _ in range(FEED)] for _ in range(EVAL)]
    decisions: list[Decision] = []
    ranked, unranked = [], []
    for n in range(MAX + 1):
        now = START + STEP * n
        table = acceptance.evidence(decisions, tenant_id=TENANT, now=now)
        ranked.append(precision(feeds, table, True))
        unranked.append(precision(feeds, table, False))
        pair, _, _ = rng.choice([card(rng) for _ in range(FEED)])
        took = rng.random() < PAIRS[pair][0]
        decisions.append(Decision(TENANT, pair[0], pair[1],
                                  "executed" if took else "dismissed",
                                  "EXECUTION_SUCCEEDED" if took else "IDEA_REJECTED",
                                  "operator", now))
    # Calibration at N = MAX: predicted (calibrated, raw confidence) vs what the operator does.
    table = acceptance.evidence(decisions, tenant_id=TENANT, now=START + STEP * (MAX + 1))
    seen = []
    for f in feeds:
        for pair, confidence, urgency in f:
            got = acceptance.calibrate(trigger=pair[0], action=pair[1], confidence=confidence,
                                       urgency=urgency, table=table)
            seen.append((got.acceptance, confidence, int(rng.random() < PAIRS[pair][0])))
    return ranked, unranked, seen, oracle(feeds)


def calibration(seen: list[tuple[float, float, int]], which: int) -> list[dict[str, object]]:
    rows = []
    for lo in (0.0, 0.2, 0.4, 0.6, 0.8):
        hit = [s for s in seen if lo <= s[which] < lo + 0.2 or (lo == 0.8 and s[which] == 1.0)]
        if hit:
            rows.append({"bin": f"{lo:.1f}-{lo + 0.2:.1f}", "n": len(hit),
                         "predicted": round(sum(s[which] for s in hit) / len(hit), 3),
                         "observed": round(sum(s[2] for s in hit) / len(hit), 3)})
    return rows


def main() -> None:
    runs = [run_seed(seed) for seed in range(SEEDS)]
    ranked = [sum(r[0][n] for r in runs) / SEEDS for n in range(MAX + 1)]
    unranked = [sum(r[1][n] for r in runs) / SEEDS for n in range(MAX + 1)]
    beats = next((n for n in range(MAX + 1)
                  if all(ranked[m] > unranked[m] for m in range(n, MAX + 1))), None)
    seen = [s for r in runs for s in r[2]]
    oracle = sum(r[3] for r in runs) / SEEDS
    report = {
        "seeds": SEEDS, "feed": FEED, "eval_feeds": EVAL,
        "curve": [{"n": n, "ranked": round(ranked[n], 3), "unranked": round(unranked[n], 3)}
                  for n in CHECKPOINTS],
        "ranked_beats_unranked_from_n": beats,
        "first_n_ranked_ahead": next((n for n in range(MAX + 1) if ranked[n] > unranked[n]),
                                     None),
        "calibrated": calibration(seen, 0), "raw_confidence": calibration(seen, 1),
        "oracle": round(oracle, 3),
    }
    if "--json" in sys.argv:
        print(json.dumps(report, indent=2))
        return
    print(f"precision@{TOP} of the feed ({SEEDS} seeds x {EVAL} feeds of {FEED}; proposer "
          f"{'honest' if HONEST else 'miscalibrated'}):")
    print("     N  ranked  unranked")
    for row in report["curve"]:  # type: ignore[attr-defined]
        print(f"{row['n']:6d}  {row['ranked']:.3f}   {row['unranked']:.3f}")
    print(f"ranked ahead from N = {report['first_n_ranked_ahead']}, "
          f"and at every N from {beats} on; the true rates' order: {report['oracle']:.3f}")
    for name in ("calibrated", "raw_confidence"):
        print(f"calibration ({name}): bin  n  predicted  observed")
        for row in report[name]:  # type: ignore[attr-defined]
            print(f"  {row['bin']}  {row['n']:5d}  {row['predicted']:.3f}  {row['observed']:.3f}")


if __name__ == "__main__":
    main()
