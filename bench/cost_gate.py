"""The DecisionCostGate on a fresh embedded PostgreSQL: what one check costs, and whether
concurrent checks ever pass the day's cap.

1. One check at a time (distinct customers, a budget that never runs out): latency p50/p95/p99
   of `care.cost_gate.check` (the facts read, the reservation, the audit row, one transaction).
2. Rounds of N checks released at once, each on a connection of its own, against a budget that
   holds `FITS` of them (each round a day of its own): how many were allowed per round, the
   tokens the day ended with against its cap, and the round's wall time.

BENCH_QUICK=1 runs fewer checks. Prints a summary, then the JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loadgen import latency_summary  # noqa: E402
from scratch_db import scratch_pool  # noqa: E402

from production.care import cost_gate  # noqa: E402
from production.config import BudgetSettings, Settings  # noqa: E402
from production.database.pool import Pool  # noqa: E402
from production.database.queries import cost_gate as queries  # noqa: E402
from production.domain.proactive.cost_gate import Tier, TierPolicy  # noqa: E402
from production.logging import configure_logging  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
SEQUENTIAL = 300 if QUICK else 2_000
ROUNDS = 5 if QUICK else 20
CONCURRENT = 50
FITS = 10
ESTIMATE = 1_000
DAY = datetime(2030, 1, 1, 12, tzinfo=UTC)


def _settings(tokens: int) -> Settings:
    policy = TierPolicy(daily_tokens=tokens, daily_cost_usd=1e9, proactive_share=1.0,
                        recency_s=0, max_pending=100)
    return Settings(budget=BudgetSettings(tiers={Tier.STANDARD: policy}))


async def _sequential(pool: Pool, settings: Settings) -> list[float]:
    took: list[float] = []
    async with pool.acquire() as conn:
        for i in range(SEQUENTIAL):
            started = time.perf_counter()
            await cost_gate.check(conn=conn, settings=settings, tenant_id="techcorp",
                                  customer_id=uuid.uuid4(), trigger="stalled_ticket",
                                  estimated_tokens=ESTIMATE, now=DAY + timedelta(seconds=i))
            took.append((time.perf_counter() - started) * 1000)
    return took


async def _round(pool: Pool, settings: Settings, day: datetime) -> dict[str, Any]:
    holding: list[int] = []
    start = asyncio.Event()

    async def one() -> bool:
        async with pool.acquire() as conn:
            holding.append(1)
            if len(holding) == CONCURRENT:
                start.set()
            await start.wait()
            verdict = await cost_gate.check(conn=conn, settings=settings, tenant_id="techcorp",
                                            customer_id=uuid.uuid4(), trigger="silence",
                                            estimated_tokens=ESTIMATE, now=day)
            return verdict.allowed

    started = time.perf_counter()
    allowed = sum(await asyncio.gather(*(one() for _ in range(CONCURRENT))))
    wall_ms = (time.perf_counter() - started) * 1000
    async with pool.acquire() as conn:
        spent = await queries.tokens_of_day(conn, "techcorp", now=day)
    return {"allowed": allowed, "spent": spent, "wall_ms": wall_ms}


async def run() -> dict[str, Any]:
    async with scratch_pool("fte-bench-cost-gate-", max_size=CONCURRENT) as pool:
        took = await _sequential(pool, _settings(10**12))
        capped = _settings(FITS * ESTIMATE)
        rounds = [await _round(pool, capped, DAY + timedelta(days=1 + i))
                  for i in range(ROUNDS)]
    return {
        "sequential_checks": SEQUENTIAL,
        "check_ms": latency_summary(took),
        "rounds": ROUNDS, "concurrent": CONCURRENT, "fits": FITS,
        "cap_tokens": FITS * ESTIMATE,
        "allowed_min": min(r["allowed"] for r in rounds),
        "allowed_max": max(r["allowed"] for r in rounds),
        "spent_max": max(r["spent"] for r in rounds),
        "round_ms": latency_summary([r["wall_ms"] for r in rounds]),
    }


def print_report(result: dict[str, Any]) -> None:
    ms = result["check_ms"]
    print(f"cost gate: {result['sequential_checks']} checks one at a time: p50 {ms['p50']:.2f} "
          f"ms, p95 {ms['p95']:.2f} ms, p99 {ms['p99']:.2f} ms")
    print(f"  {result['rounds']} rounds of {result['concurrent']} concurrent checks against a "
          f"budget that fits {result['fits']}: allowed {result['allowed_min']}-"
          f"{result['allowed_max']} per round, the day's tokens at most {result['spent_max']} "
          f"(cap {result['cap_tokens']}); a round p50 {result['round_ms']['p50']:.1f} ms")


if __name__ == "__main__":
    configure_logging("WARNING", process="bench")
    outcome = asyncio.run(run())
    print_report(outcome)
    print(json.dumps(outcome))
