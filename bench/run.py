"""`make bench`: the product's speed against `fte up` on loopback, with both models.

Every end-to-end scenario runs on an idle stack (the backlog of the one before has drained),
so one scenario's queue never shows up as the next one's latency.

Local deterministic model (one `fte up`):
1. Cold start: the first reply right after the banner, then 300 forms at 10/s.
2. Warm: 300 forms at 10/s (the reference for 1), then 500 at 20/s (target p95 <= 500 ms).
3. The spine's bursts: open loop 200 submits/s over 100 connections for 30 s (latency from the
   scheduled send), closed loop over 100 connections for 15 s, each followed by its drain.
OpenAI path (`fte up` against bench/fake_openai.py, every model call held back):
4. 300 forms at 8/s with 1.0 s per call, a third of them in pairs from one customer (two
   messages in a row): drain rate, e2e p50/p95/p99, model calls per reply, lost, duplicated,
   customers whose replies came in another order than their messages.
5. 400 forms at 20/s with 0.3 s per call.
6. The worker's in-flight bound (1, 6, 16, 64, 128) at 1.0 s per call, 240 forms at 8/s each:
   drain rate, worker CPU (share of one core) and peak RSS.
7. Knowledge-base search at 10k chunks (bench/kb_search.py) and cross-channel identity at 1,000
   people (bench/identity.py); the operators' channel metrics and series over a week of 50k
   messages (bench/ops_metrics.py); the proactive sweep over 100,000 customers, then again with
   nothing changed (bench/proactive_sweep.py).

Prints the tables and writes bench/results.json. BENCH_QUICK=1: a short smoke run.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import identity as identity_bench
import kb_search
import ops_metrics as ops_bench
import proactive_sweep
from loadgen import RunResult, closed_loop, open_loop
from stack import (
    ProcessSampler,
    Stack,
    e2e_summary,
    factory,
    fake_openai,
    fte_up,
    model_calls_per_reply,
    outcomes,
    submit,
)

ROOT = Path(__file__).resolve().parent.parent
QUICK = os.environ.get("BENCH_QUICK") == "1"
PORT = int(os.environ.get("BENCH_PORT", "18080"))
IN_FLIGHT_ENV = "KAFKA_MAX_IN_FLIGHT"
BOUNDS = (1, 6, 16, 64, 128)


def _n(full: int, quick: int) -> int:
    return quick if QUICK else full


async def e2e(stack: Stack, tag: str, *, count: int, rate: float, wait_s: float = 120,
              bursts: bool = False) -> dict[str, Any]:
    """Offer `count` forms at `rate`/s and wait for their replies; return e2e_summary."""
    result = await submit(stack, tag, count=count, rate=rate, bursts=bursts)
    rows = await outcomes(stack, tag, expected=result.completed, wait_s=wait_s)
    return {"rate": rate, **e2e_summary(result, rows, count)}


async def drain(stack: Stack, timeout_s: float) -> dict[str, Any]:
    """Wait until no accepted inbound message is left unprocessed; return the drain rate."""
    started = time.monotonic()
    count = "SELECT count(*) FROM messages WHERE direction = 'inbound' AND status {} 'accepted'"
    before = await stack.db.fetchval(count.format("<>"))
    while time.monotonic() - started < timeout_s:
        if await stack.db.fetchval(count.format("=")) == 0:
            break
        await asyncio.sleep(0.5)
    processed = await stack.db.fetchval(count.format("<>")) - before
    seconds = time.monotonic() - started
    return {"seconds": round(seconds, 1), "processed": processed,
            "per_second": round(processed / max(seconds, 0.001), 1)}


async def local_model(data_dir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    async with fte_up(data_dir, PORT) as stack:
        # 1. Cold: the first customer right after the banner, then a steady stream.
        first = await e2e(stack, "first", count=1, rate=1, wait_s=30)
        first["after_banner_ms"] = round((time.monotonic() - stack.banner_at) * 1000, 1)
        results["cold_first_reply"] = first
        results["cold_300_at_10"] = await e2e(stack, "cold", count=_n(300, 50), rate=10)
        # 2. Warm, idle.
        results["warm_300_at_10"] = await e2e(stack, "warm10", count=_n(300, 50), rate=10)
        results["warm_500_at_20"] = await e2e(stack, "warm20", count=_n(500, 100), rate=20)
        # 3. Bursts, each drained before the next.
        common = {"host": "127.0.0.1", "port": PORT, "method": "POST",
                  "path": "/api/v1/support/form"}
        duration = 5 if QUICK else 30
        opened: RunResult = await open_loop(**common, body_factory=factory("open"), rate=200,
                                            duration_s=duration, connections=100)
        results["open_loop_200rps"] = row(f"open loop 200/s x {duration}s, 100 conns",
                                          opened.summary())
        results["worker_drain"] = await drain(stack, 600)
        closed = await closed_loop(**common, body_factory=factory("closed"),
                                   duration_s=5 if QUICK else 15, connections=100)
        results["closed_loop_max"] = row("closed loop, 100 conns", closed.summary())
        results["worker_drain_after_closed"] = await drain(stack, 900)
    return results


async def openai_path(data_dir: Path, *, latency_s: float, count: int, rate: float,
                      in_flight: int | None = None, bursts: bool = False) -> dict[str, Any]:
    """One `fte up` against the fake held back by `latency_s`: offer `count` forms at `rate`."""
    env = {IN_FLIGHT_ENV: str(in_flight)} if in_flight else {}
    async with fake_openai(latency_s) as openai_env, \
            fte_up(data_dir, PORT, **openai_env, **env) as stack:
        await e2e(stack, "warmup", count=4, rate=4, wait_s=60)
        tag = f"openai{int(latency_s * 1000)}"
        async with ProcessSampler(stack.worker()) as worker:
            out = await e2e(stack, tag, count=count, rate=rate, bursts=bursts,
                            wait_s=max(120.0, 3 * count / rate))
        out.update(latency_s_per_call=latency_s, in_flight=in_flight or "default",
                   model_calls_per_reply=await model_calls_per_reply(stack, tag),
                   worker_cpu_share=round(worker.cpu_share, 2),
                   worker_peak_rss_mb=round(worker.peak_rss_mb, 1))
    return out


async def main() -> int:
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_before": os.getloadavg()},
        "quick": QUICK,
    }
    with tempfile.TemporaryDirectory(prefix="fte-bench-") as tmp:
        os.chmod(tmp, 0o755)
        results["local_model"] = await local_model(Path(tmp) / "local")
        results["openai_1s_8rps"] = await openai_path(
            Path(tmp) / "openai-1s", latency_s=1.0, count=_n(300, 40), rate=8.0, bursts=True)
        results["openai_0.3s_20rps"] = await openai_path(
            Path(tmp) / "openai-0.3s", latency_s=0.3, count=_n(400, 60), rate=20.0)
        results["in_flight"] = [
            await openai_path(Path(tmp) / f"bound-{bound}", latency_s=1.0,
                              count=_n(240, 24), rate=8.0, in_flight=bound)
            for bound in (BOUNDS if not QUICK else (1, 64))]
    results["kb_search"] = await kb_search.run()
    results["identity"] = await identity_bench.run()
    results["ops_metrics"] = await ops_bench.run()
    results["proactive_sweep"] = await proactive_sweep.run()
    results["machine"]["load_after"] = os.getloadavg()
    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print_tables(results)
    kb_search.print_report(results["kb_search"])
    identity_bench.print_report(results["identity"])
    ops_bench.print_report(results["ops_metrics"])
    proactive_sweep.print_report(results["proactive_sweep"])
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


def row(name: str, summary: dict[str, Any]) -> dict[str, Any]:
    return {"scenario": name, **{k: summary.get(k) for k in
            ("sent", "count", "errors", "p50", "p95", "p99", "max", "throughput")}}


def print_tables(results: dict[str, Any]) -> None:
    local = results["local_model"]
    print("\n| scenario | sent | ok | errors | p50 ms | p95 ms | p99 ms | max ms | req/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key in ("open_loop_200rps", "closed_loop_max"):
        r = local[key]
        print(f"| {r['scenario']} | {r['sent']} | {r['count']} | {r['errors']} | "
              f"{_f(r['p50'])} | {_f(r['p95'])} | {_f(r['p99'])} | {_f(r['max'])} | "
              f"{_f(r['throughput'])} |")
    for key in ("worker_drain", "worker_drain_after_closed"):
        d = local[key]
        print(f"{key}: {d['processed']} messages in {d['seconds']} s ({d['per_second']}/s)")
    first = local["cold_first_reply"]
    print(f"\nfirst reply after the banner: accepted → stored {_f(first['p50_ms'])} ms "
          f"({_f(first['after_banner_ms'])} ms from the banner to the reply seen)")
    print("\n| end to end | offered | rate/s | replied | lost | dup | out of order | drain/s | "
          "p50 ms | p95 ms | p99 ms | model calls/reply | worker CPU | worker RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows = [(f"local, {k}", local[k]) for k in ("cold_300_at_10", "warm_300_at_10",
                                                 "warm_500_at_20")]
    rows += [(f"OpenAI fake {results[k]['latency_s_per_call']} s/call", results[k])
             for k in ("openai_1s_8rps", "openai_0.3s_20rps")]
    rows += [(f"in-flight {r['in_flight']}, 1.0 s/call", r) for r in results["in_flight"]]
    for name, e in rows:
        calls = e.get("model_calls_per_reply") or {}
        print(f"| {name} | {e['offered']} | {e['rate']} | {e['replied']} | {e['lost']} | "
              f"{e['duplicated']} | {e['out_of_order_customers']} | {_f(e['drain_per_s'])} | "
              f"{_f(e['p50_ms'])} | {_f(e['p95_ms'])} | {_f(e['p99_ms'])} | "
              f"{_f(calls.get('mean'))} | {_f(e.get('worker_cpu_share'))} | "
              f"{_f(e.get('worker_peak_rss_mb'))} |")


def _f(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else str(value or "-")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
