"""Model round trips per reply on the OpenAI path, against the local fake held back per call.

Every labelled ticket of `context/sample-tickets.json` goes through the worker's use case
(`process_inbound.process`: identity, history, the agent, the C.A.R.E. gate) with the agent on
the Responses API fake of `tests/fakes/openai_api.py`, which answers each model call after
`--latency` seconds (default 1.0, like a real model's 0.5-1.5 s). A customer's tickets run in
file order, different customers concurrently (as the consumer runs them), on a fresh embedded
PostgreSQL with the product docs loaded and embedded locally.

What the fake received is what is counted: its requests are grouped by the customer's message
they carry, so the numbers mean the same for any version of the agent. Reported per kind of
run (answered after one search, answered after a second search, escalated): model calls per
reply (mean, max), input/output tokens per run, and the time per message.

    .venv/bin/python bench/agent_rounds.py [--latency 1.0] [--concurrency 8] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]

from loadgen import percentile  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from scratch_db import scratch_pool  # noqa: E402

from production import clock  # noqa: E402
from production.agent.runner import SupportAgent  # noqa: E402
from production.config import OpenAISettings, Settings  # noqa: E402
from production.embeddings import local_embedder  # noqa: E402
from production.logging import configure_logging  # noqa: E402
from production.services import evaluation, knowledge  # noqa: E402
from production.services.ask import Question, run_question  # noqa: E402
from production.services.process_inbound import WorkerDeps  # noqa: E402
from tests.fakes.openai_api import FakeOpenAI  # noqa: E402

KINDS = ("answered", "answered_after_second_search", "escalated")


@dataclass(frozen=True)
class Run:
    ticket: str
    kind: str
    seconds: float
    text: str  # the user message the model was given: the key of its requests at the fake
    counted: int | None  # the model calls the agent itself counted (None: it does not count)


async def run(latency: float, concurrency: int) -> dict[str, Any]:
    tickets = evaluation.load_tickets(ROOT / "context" / "sample-tickets.json")
    embedder = local_embedder()
    async with scratch_pool("fte-bench-rounds-", max_size=concurrency + 2) as pool, \
            FakeOpenAI(latency_s=latency) as fake:
        await knowledge.load_if_empty(pool=pool, tenant_id="techcorp", folder=ROOT / "context",
                                      embedder=embedder)
        settings = Settings().model_copy(update={"openai": OpenAISettings(
            api_key=SecretStr(fake.api_key), base_url=fake.base_url, model="gpt-4o-mini")})
        deps = WorkerDeps(pool=pool, settings=settings, agent=SupportAgent(settings),
                          embedder=embedder)
        by_sender: dict[str, list[evaluation.LabelledTicket]] = defaultdict(list)
        for ticket in tickets:
            by_sender[ticket.sender].append(ticket)
        gate = asyncio.Semaphore(concurrency)
        runs: list[Run] = []

        async def customer(own: list[evaluation.LabelledTicket]) -> None:
            async with gate:
                for ticket in own:
                    runs.append(await _one(deps, ticket))

        started = time.perf_counter()
        await asyncio.gather(*(customer(own) for own in by_sender.values()))
        wall = time.perf_counter() - started
        usage = _usage_by_message(fake)
    return _report(runs, usage, latency=latency, wall=wall)


async def _one(deps: WorkerDeps, ticket: evaluation.LabelledTicket) -> Run:
    started = time.perf_counter()
    answer, outcome = await run_question(deps, Question(
        channel=ticket.channel,  # type: ignore[arg-type]  # validated by load_tickets
        sender=ticket.sender, message=ticket.message, subject=ticket.subject,
        name=ticket.name), clock=clock.now)
    seconds = time.perf_counter() - started
    searches = sum(1 for c in answer["tool_calls"]
                   if c["name"] == "search_knowledge_base" and c["ok"])
    kind = "escalated" if outcome.escalation_reasons else \
        "answered_after_second_search" if searches >= 2 else "answered"
    text = f"Subject: {ticket.subject}\n\n{ticket.message}" if ticket.subject else ticket.message
    return Run(ticket.id, kind, seconds, text, getattr(outcome, "model_calls", None))


def _usage_by_message(fake: FakeOpenAI) -> dict[str, list[dict[str, Any]]]:
    """Return the usage of every answered model call, keyed by the customer's message."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for request in fake.recorded:
        if request.path != "/v1/responses" or request.status != 200 or request.usage is None:
            continue
        items = request.body.get("input") or []
        [first] = [i for i in items if isinstance(i, dict) and i.get("role") == "user"][:1]
        found[str(first.get("content"))].append(request.usage)
    return found


def _report(runs: list[Run], usage: dict[str, list[dict[str, Any]]], *, latency: float,
            wall: float) -> dict[str, Any]:
    def summary(group: list[Run]) -> dict[str, Any]:
        if not group:
            return {"runs": 0}
        calls = [len(usage[r.text]) for r in group]
        inputs = [sum(u["input_tokens"] for u in usage[r.text]) for r in group]
        outputs = [sum(u["output_tokens"] for u in usage[r.text]) for r in group]
        seconds = sorted(r.seconds for r in group)
        return {
            "runs": len(group),
            "model_calls_mean": round(statistics.mean(calls), 2),
            "model_calls_max": max(calls),
            "input_tokens_mean": round(statistics.mean(inputs)),
            "output_tokens_mean": round(statistics.mean(outputs)),
            "tokens_mean": round(statistics.mean(inputs) + statistics.mean(outputs)),
            "seconds_p50": round(percentile(seconds, 50), 3),
            "seconds_p95": round(percentile(seconds, 95), 3),
        }

    return {
        "latency_s_per_call": latency,
        "wall_s": round(wall, 1),
        # Runs whose own count of model calls (agent_metrics.model_calls) differs from the fake's.
        "miscounted": sorted(r.ticket for r in runs
                             if r.counted is not None and r.counted != len(usage[r.text])),
        "all": summary(runs),
        **{kind: summary([r for r in runs if r.kind == kind]) for kind in KINDS},
    }


def print_report(result: dict[str, Any]) -> None:
    print(f"model answers after {result['latency_s_per_call']} s; wall {result['wall_s']} s; "
          f"runs miscounting their model calls: {len(result['miscounted'])}")
    print(f"{'run kind':<30}{'runs':>5}{'calls mean':>11}{'max':>5}{'in tok':>8}{'out tok':>8}"
          f"{'tokens':>8}{'s p50':>7}{'s p95':>7}")
    for kind in ("all", *KINDS):
        s = result[kind]
        if not s["runs"]:
            print(f"{kind:<30}{0:>5}")
            continue
        print(f"{kind:<30}{s['runs']:>5}{s['model_calls_mean']:>11}{s['model_calls_max']:>5}"
              f"{s['input_tokens_mean']:>8}{s['output_tokens_mean']:>8}{s['tokens_mean']:>8}"
              f"{s['seconds_p50']:>7}{s['seconds_p95']:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per model call")
    parser.add_argument("--concurrency", type=int, default=8, help="customers at once")
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args()
    configure_logging("WARNING", process="bench")
    result = asyncio.run(run(args.latency, args.concurrency))
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
