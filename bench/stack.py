"""`fte up` for the benchmarks: start it, submit forms, read what happened from its database.

What every end-to-end scenario measures comes from the product's own rows: an inbound message
is accepted when the API stored it (`messages.created_at`), answered when the worker stored the
agent's reply to it (`in_reply_to`). Lost: accepted and never answered within the wait;
duplicated: more than one reply; out of order: a customer's replies stored in another order
than their messages were accepted.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from loadgen import RunResult, open_loop, percentile

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ["general", "technical", "billing", "account", "feedback", "bug_report"]
QUESTIONS = [
    "How do I reset my password? The email never arrives.",
    "How can I export my project data as CSV for our auditors?",
    "What is the API rate limit? We keep getting HTTP 429 responses.",
    "How do I enable two-factor authentication for my whole team?",
    "Slack stopped posting project updates to our channel, how do I reconnect it?",
    "Can I invite a guest who only sees one project?",
]
# Settings of the developer's shell that would point `fte up` away from its own stack.
STRIP = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "OPENAI_API_KEY", "OPENAI_BASE_URL")


def form_body(i: int, tag: str, *, bursts: bool = False) -> bytes:
    """Return submission `i` of a run. With `bursts`, a third of the pairs of consecutive
    submissions come from one customer (two messages in a row, as people write), so the
    order of each customer's replies can be checked."""
    who = f"p{i // 2}" if bursts and (i // 2) % 3 == 0 else str(i)
    return json.dumps({
        "name": f"Bench Customer {who}",
        "email": f"{tag}.{who}@bench.example.com",
        "subject": f"{tag} question {i}",
        "category": CATEGORIES[i % len(CATEGORIES)],
        "priority": "medium",
        "message": QUESTIONS[i % len(QUESTIONS)],
    }).encode()


def factory(tag: str, *, bursts: bool = False) -> Callable[[int], bytes]:
    return lambda i: form_body(i, tag, bursts=bursts)


@dataclass
class Stack:
    proc: asyncio.subprocess.Process
    port: int
    dsn: str
    banner_at: float  # time.monotonic() when the banner was printed
    db: asyncpg.Connection = field(init=False)

    def worker(self) -> psutil.Process:
        """The `fte worker` child of this `fte up`."""
        for child in psutil.Process(self.proc.pid).children(recursive=True):
            if child.cmdline()[-1:] == ["worker"]:
                return child
        raise RuntimeError("no fte worker is running")


@asynccontextmanager
async def fte_up(data_dir: Path, port: int, **env: str) -> AsyncIterator[Stack]:
    """Run `fte up` (with these extra environment variables) until the block ends."""
    child_env = {k: v for k, v in os.environ.items() if k not in STRIP}
    # Every request comes from this one address: the abuse limits would measure themselves.
    child_env.update(LOG_LEVEL="WARNING", RATE_LIMIT_FORM_PER_CLIENT="100000000",
                     RATE_LIMIT_FORM_PER_SENDER="100000000",
                     RATE_LIMIT_TICKETS_PER_CLIENT="100000000", **env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "production.cli", "up", "--data-dir", str(data_dir), "--port",
        str(port), cwd=ROOT, env=child_env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    try:
        banner = ""
        while "Press Ctrl-C" not in banner:
            line = await asyncio.wait_for(proc.stdout.readline(), 180)
            if not line:
                raise RuntimeError(f"fte up exited: {banner}")
            banner += line.decode()
        found = re.search(r"at (127\.0\.0\.1:\d+/\w+)", banner)
        assert found, banner
        stack = Stack(proc, port, f"postgresql://postgres@{found.group(1)}", time.monotonic())
        drain_stdout = asyncio.create_task(_discard(proc.stdout))
        stack.db = await asyncpg.connect(stack.dsn)
        try:
            yield stack
        finally:
            await stack.db.close()
            drain_stdout.cancel()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(proc.wait(), 90)


async def _discard(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


@asynccontextmanager
async def fake_openai(latency_s: float) -> AsyncIterator[dict[str, str]]:
    """Run bench/fake_openai.py; yield the environment that points `fte up` at it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "fake_openai.py"), "--latency", str(latency_s),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        values = dict(part.split("=", 1) for part in line.split())
        yield {"OPENAI_API_KEY": values["api_key"], "OPENAI_BASE_URL": values["base_url"]}
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)


async def submit(stack: Stack, tag: str, *, count: int, rate: float, connections: int = 20,
                 bursts: bool = False) -> RunResult:
    """Offer `count` forms at `rate` per second (open loop)."""
    return await open_loop(host="127.0.0.1", port=stack.port, method="POST",
                           path="/api/v1/support/form",
                           body_factory=factory(tag, bursts=bursts), rate=rate,
                           duration_s=count / rate, connections=connections)


_OUTCOMES = """
    SELECT i.id, i.customer_id, i.created_at AS accepted_at, count(r.id) AS replies,
           min(r.created_at) AS replied_at
    FROM messages i LEFT JOIN messages r ON r.in_reply_to = i.id AND r.role = 'agent'
    WHERE i.direction = 'inbound' AND i.subject LIKE $1
    GROUP BY i.id
"""


async def outcomes(stack: Stack, tag: str, *, expected: int, wait_s: float) -> list[Any]:
    """Wait until the run's `expected` messages all have a reply (or `wait_s` passed); return
    one row per accepted message."""
    deadline = time.monotonic() + wait_s
    while True:
        rows = await stack.db.fetch(_OUTCOMES, f"{tag} %")
        done = len(rows) >= expected and all(row["replies"] for row in rows)
        if done or time.monotonic() > deadline:
            return list(rows)
        await asyncio.sleep(0.25)


def order_violations(rows: list[Any]) -> int:
    """Return how many customers got their replies in another order than their messages."""
    by_customer: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        if row["replied_at"] is not None:
            by_customer[row["customer_id"]].append(row)
    violations = 0
    for own in by_customer.values():
        accepted = [r["id"] for r in sorted(own, key=lambda r: (r["accepted_at"], r["id"]))]
        replied = [r["id"] for r in sorted(own, key=lambda r: (r["replied_at"], r["id"]))]
        violations += accepted != replied
    return violations


def e2e_summary(result: RunResult, rows: list[Any], offered: int) -> dict[str, Any]:
    """Return the scenario's figures: accepted, replied, lost, duplicated, out of order, drain
    rate (replies per second from the first accepted message to the last reply) and the
    accepted → reply stored latency percentiles."""
    latencies = [(r["replied_at"] - r["accepted_at"]).total_seconds() * 1000
                 for r in rows if r["replied_at"]]
    replied = [r for r in rows if r["replied_at"]]
    span = ((max(r["replied_at"] for r in replied) - min(r["accepted_at"] for r in rows))
            .total_seconds() if replied else 0.0)
    return {
        "offered": offered, "accepted": result.completed,
        "submit_errors": result.summary()["errors"],
        "replied": len(latencies), "lost": sum(1 for r in rows if not r["replies"]),
        "duplicated": sum(1 for r in rows if r["replies"] > 1),
        "out_of_order_customers": order_violations(rows),
        "drain_per_s": round(len(replied) / span, 2) if span else None,
        **{f"p{q}_ms": round(percentile(latencies, q), 1) if latencies else None
           for q in (50, 95, 99)},
        "max_ms": round(max(latencies), 1) if latencies else None,
    }


async def model_calls_per_reply(stack: Stack, tag: str) -> dict[str, Any]:
    """Return the agent's own count of model calls (agent_metrics) over the run's messages."""
    row = await stack.db.fetchrow(
        """
        SELECT avg(a.metric_value) AS mean, max(a.metric_value) AS max, count(*) AS runs
        FROM agent_metrics a JOIN messages i ON i.id = a.message_id
        WHERE a.metric_name = 'model_calls' AND i.subject LIKE $1
        """, f"{tag} %")
    assert row is not None
    return {"mean": round(float(row["mean"]), 2) if row["mean"] is not None else None,
            "max": row["max"], "runs": row["runs"]}


class ProcessSampler:
    """CPU (share of one core) and peak RSS of a process while the block runs."""

    def __init__(self, process: psutil.Process, interval_s: float = 0.5) -> None:
        self.process = process
        self.interval_s = interval_s
        self.peak_rss_mb = 0.0
        self.cpu_share = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ProcessSampler:
        self._started = time.monotonic()
        self._cpu = sum(self.process.cpu_times()[:2])
        self._task = asyncio.create_task(self._sample())
        return self

    async def _sample(self) -> None:
        while True:
            self.peak_rss_mb = max(self.peak_rss_mb, self.process.memory_info().rss / 2**20)
            await asyncio.sleep(self.interval_s)

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        wall = time.monotonic() - self._started
        self.cpu_share = (sum(self.process.cpu_times()[:2]) - self._cpu) / max(wall, 1e-9)
        self.peak_rss_mb = max(self.peak_rss_mb, self.process.memory_info().rss / 2**20)
