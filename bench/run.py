"""`make bench`: the spine's speed against `fte up` on loopback.

1. Open loop: 200 submits/s over 100 connections for 30 s (latency from the scheduled send).
2. Closed loop: 100 connections as fast as they go for 15 s (maximum sustained throughput).
3. End to end: 500 messages offered at 20/s; latency from accepted submit to stored reply,
   plus lost and duplicated replies.
4. Knowledge-base search at 10k chunks: hybrid search p95 and recall@5 against exact search
   (bench/kb_search.py).
5. Cross-channel identity at 1,000 people: identification rate, wrong merges, candidates and
   intake time per message (bench/identity.py).

Prints a table and writes bench/results.json. Set BENCH_QUICK=1 for a short smoke run.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import identity as identity_bench
import kb_search
from loadgen import RunResult, closed_loop, open_loop, percentile

ROOT = Path(__file__).resolve().parent.parent
QUICK = os.environ.get("BENCH_QUICK") == "1"
CATEGORIES = ["general", "technical", "billing", "account", "feedback", "bug_report"]
QUESTIONS = [
    "How do I reset my password? The email never arrives.",
    "How can I export my project data as CSV for our auditors?",
    "What is the API rate limit? We keep getting HTTP 429 responses.",
    "How do I enable two-factor authentication for my whole team?",
    "Slack stopped posting project updates to our channel, how do I reconnect it?",
    "Can I invite a guest who only sees one project?",
]


def form_body(i: int, tag: str) -> bytes:
    return json.dumps({
        "name": f"Bench Customer {i}",
        "email": f"{tag}.{i}@bench.example.com",
        "subject": f"{tag} question {i}",
        "category": CATEGORIES[i % len(CATEGORIES)],
        "priority": "medium",
        "message": QUESTIONS[i % len(QUESTIONS)],
    }).encode()


def factory(tag: str) -> Any:
    return lambda i: form_body(i, tag)


async def start_stack(data_dir: Path, port: int) -> tuple[asyncio.subprocess.Process, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    env["LOG_LEVEL"] = "WARNING"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "production.cli", "up", "--data-dir", str(data_dir), "--port",
        str(port), cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    banner = ""
    while "Press Ctrl-C" not in banner:
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if not line:
            raise RuntimeError(f"fte up exited: {banner}")
        banner += line.decode()
    found = re.search(r"at (127\.0\.0\.1:\d+/\w+)", banner)
    assert found, banner
    return proc, f"postgresql://postgres@{found.group(1)}"


async def wait_healthy(port: int) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(300):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/api/v1/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the stack never became healthy")


async def drain(db: asyncpg.Connection, timeout_s: float) -> tuple[float, int]:
    """Wait until every accepted inbound message is processed; return (seconds, processed)."""
    started = time.monotonic()
    before = await db.fetchval("SELECT count(*) FROM messages WHERE direction = 'inbound' "
                               "AND status <> 'accepted'")
    while time.monotonic() - started < timeout_s:
        pending = await db.fetchval("SELECT count(*) FROM messages WHERE direction = 'inbound' "
                                    "AND status = 'accepted'")
        if pending == 0:
            break
        await asyncio.sleep(0.5)
    after = await db.fetchval("SELECT count(*) FROM messages WHERE direction = 'inbound' "
                              "AND status <> 'accepted'")
    return time.monotonic() - started, after - before


async def end_to_end(port: int, db: asyncpg.Connection) -> dict[str, Any]:
    count, rate = (100, 20.0) if QUICK else (500, 20.0)
    tag = f"e2e{int(time.time())}"
    result = await open_loop(host="127.0.0.1", port=port, method="POST",
                             path="/api/v1/support/form", body_factory=factory(tag),
                             rate=rate, duration_s=count / rate, connections=20)
    deadline = time.monotonic() + 120
    query = """
        SELECT i.id, i.created_at AS accepted_at, count(r.id) AS replies,
               min(r.created_at) AS replied_at
        FROM messages i LEFT JOIN messages r ON r.in_reply_to = i.id AND r.role = 'agent'
        WHERE i.direction = 'inbound' AND i.subject LIKE $1
        GROUP BY i.id
    """
    while True:
        rows = await db.fetch(query, f"{tag} %")
        if all(row["replies"] for row in rows) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    latencies = [(row["replied_at"] - row["accepted_at"]).total_seconds() * 1000
                 for row in rows if row["replied_at"]]
    return {
        "offered": count, "accepted": result.completed,
        "submit_errors": result.summary()["errors"],
        "replied": len(latencies), "lost": sum(1 for row in rows if not row["replies"]),
        "duplicated": sum(1 for row in rows if row["replies"] > 1),
        **{f"p{q}_ms": round(percentile(latencies, q), 1) for q in (50, 95, 99)},
        "max_ms": round(max(latencies), 1),
    }


def row(name: str, summary: dict[str, Any]) -> dict[str, Any]:
    return {"scenario": name, **{k: summary.get(k) for k in
            ("sent", "count", "errors", "p50", "p95", "p99", "max", "throughput")}}


async def main() -> int:
    port = int(os.environ.get("BENCH_PORT", "18080"))
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "quick": QUICK,
    }
    with tempfile.TemporaryDirectory(prefix="fte-bench-") as tmp:
        os.chmod(tmp, 0o755)
        proc, dsn = await start_stack(Path(tmp) / "data", port)
        try:
            await wait_healthy(port)
            db = await asyncpg.connect(dsn)
            common = {"host": "127.0.0.1", "port": port, "method": "POST",
                      "path": "/api/v1/support/form"}
            await open_loop(**common, body_factory=factory("warmup"), rate=100, duration_s=2,
                            connections=20)
            results["warmup_drain"] = await drain(db, 60)

            duration = 5 if QUICK else 30
            opened: RunResult = await open_loop(**common, body_factory=factory("open"), rate=200,
                                                duration_s=duration, connections=100)
            results["open_loop_200rps"] = row(f"open loop 200/s x {duration}s, 100 conns",
                                              opened.summary())
            seconds, processed = await drain(db, 300)
            results["worker_drain"] = {"seconds": round(seconds, 1), "processed": processed,
                                       "per_second": round(processed / max(seconds, 0.001), 1)}

            closed = await closed_loop(**common, body_factory=factory("closed"),
                                       duration_s=5 if QUICK else 15, connections=100)
            results["closed_loop_max"] = row("closed loop, 100 conns", closed.summary())
            seconds, processed = await drain(db, 600)
            results["worker_drain_after_closed"] = {
                "seconds": round(seconds, 1), "processed": processed,
                "per_second": round(processed / max(seconds, 0.001), 1)}

            results["end_to_end"] = await end_to_end(port, db)
            await db.close()
        finally:
            proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(proc.wait(), 60)

    results["kb_search"] = await kb_search.run()
    results["identity"] = await identity_bench.run()
    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    kb_search.print_report(results["kb_search"])
    identity_bench.print_report(results["identity"])
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


def print_table(results: dict[str, Any]) -> None:
    print("\n| scenario | sent | ok | errors | p50 ms | p95 ms | p99 ms | max ms | req/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key in ("open_loop_200rps", "closed_loop_max"):
        r = results[key]
        print(f"| {r['scenario']} | {r['sent']} | {r['count']} | {r['errors']} | "
              f"{_f(r['p50'])} | {_f(r['p95'])} | {_f(r['p99'])} | {_f(r['max'])} | "
              f"{_f(r['throughput'])} |")
    e = results["end_to_end"]
    print(f"\nend to end ({e['offered']} offered at 20/s): accepted {e['accepted']}, replied "
          f"{e['replied']}, lost {e['lost']}, duplicated {e['duplicated']}; submit→stored reply "
          f"p50 {e['p50_ms']} ms, p95 {e['p95_ms']} ms, p99 {e['p99_ms']} ms, max {e['max_ms']} ms")
    for key in ("worker_drain", "worker_drain_after_closed"):
        d = results[key]
        print(f"{key}: {d['processed']} messages in {d['seconds']} s ({d['per_second']}/s)")


def _f(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else str(value)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
