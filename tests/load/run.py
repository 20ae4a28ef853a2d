"""`make load`: the three-channel load against `fte up` on the provider fakes, then the check.

    python -m tests.load.run --users 120 --duration 300 --out load-results

Starts the fakes (tests/load/fakes.py) and `fte up --env-file` on them (a fresh data dir, the
load client's address 127.0.0.1 as the trusted proxy, so each simulated customer is counted
under its own forwarded address), runs Locust headless (tests/load/locustfile.py: CSV and HTML
report in --out), waits until every accepted message is answered and delivered (or --drain
seconds pass), then reports per channel from the database and the fakes' records
(tests/load/check.py) and scans every process's log output (each `fte up` child's, the
supervisor's, PostgreSQL's, the fakes') for the email addresses and phone numbers the run used.
Exit 1 if anything was lost or duplicated or any of them is in a log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dotenv import dotenv_values

from production.local_stack import free_port, stop_process
from tests.load import check
from tests.load.chaos import Chaos

ROOT = Path(__file__).resolve().parents[2]
# Settings of the developer's shell that would point `fte up` away from its own stack.
STRIP = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "OPENAI_API_KEY", "OPENAI_BASE_URL",
         "CARE_AUTONOMY_ENABLED", "CARE_SHADOW_MODE")


@dataclass
class LoadResult:
    users: int
    duration_s: float
    channels: dict[str, dict[str, Any]]
    pii_found: list[str]
    identities: int
    logs_scanned: dict[str, int]
    locust: dict[str, Any] = field(default_factory=dict)
    drained_s: float = 0.0
    kills: list[dict[str, Any]] = field(default_factory=list)
    stack_start_s: float = 0.0  # until `fte up` was ready

    @property
    def ok(self) -> bool:
        return not self.pii_found and all(
            figures["lost"] == 0 and figures["duplicated"] == 0
            for figures in self.channels.values())


def verdict(result: LoadResult, *, kills: Mapping[str, int] | None = None) -> list[str]:
    """Return what is wrong with a run, each in a line: a channel that accepted nothing, lost
    or duplicated a message or left one undelivered; an identity in a log; and with `kills`
    (kind: how many at least), too few kills of a kind, or one whose kind never came back."""
    problems = [f"{channel}: {what} {figures[what]}"
                for channel, figures in result.channels.items()
                for what in ("lost", "duplicated") if figures[what]]
    problems += [f"{channel}: accepted nothing" for channel, figures in result.channels.items()
                 if not figures["accepted"]]
    problems += [f"{channel}: {figures['delivered']} of {figures['accepted']} delivered"
                 for channel, figures in result.channels.items()
                 if figures["accepted"] and figures["delivered"] != figures["accepted"]]
    problems += [f"in a log: {found}" for found in result.pii_found]
    for kind, least in (kills or {}).items():
        done = [kill for kill in result.kills if kill["kind"] == kind]
        if len(done) < least:
            problems.append(f"{kind}: {len(done)} kills, not {least}")
        problems += [f"{kind} killed at {kill['at_s']} s: not back" for kill in done
                     if kill["replaced_after_s"] is None]
    return problems


class Observer(Protocol):
    """Watches a run (tests/load/soak.py's sampler): from just before the load until it ends,
    then is handed the database's rows once everything settled."""

    def start(self, *, up_pid: int, dsn: str, fakes_pid: int) -> None: ...

    def stop(self) -> None: ...

    def finish(self, inbound: list[Any], replies: list[Any]) -> None: ...


def _wait_for(predicate: Any, what: str, timeout_s: float, proc: subprocess.Popen[bytes],
              log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if proc.poll() is not None:
            raise RuntimeError(f"{what}: exited {proc.returncode}: {log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready within {timeout_s}s")
        time.sleep(0.2)


def _locust_totals(out: Path) -> dict[str, Any]:
    """Each request name's count, failures and percentiles from Locust's stats CSV."""
    import csv

    stats = out / "locust_stats.csv"
    if not stats.exists():
        return {}
    rows: dict[str, Any] = {}
    with stats.open() as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 2),
                "p50_ms": row["50%"], "p95_ms": row["95%"], "p99_ms": row["99%"],
                "max_ms": round(float(row["Max Response Time"]))}
    return rows


def pii_in_logs(logs: list[Path], identities: set[str]) -> tuple[list[str], dict[str, int]]:
    """Return each 'log: identity' found (an email in any case, a phone number with or without
    its +, or its national digits), and the bytes scanned per log."""
    needles: dict[str, str] = {}
    for identity in identities:
        if "@" in identity:
            needles[identity.lower()] = identity
        else:
            digits = identity.lstrip("+")
            for form in (identity, digits, digits[1:]):
                needles[form] = identity
    pattern = re.compile("|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)))
    found: list[str] = []
    scanned: dict[str, int] = {}
    for log in logs:
        if not log.exists():
            continue
        text = log.read_text(errors="replace")
        scanned[log.name] = len(text)
        for match in set(pattern.findall(text.lower())) if needles else ():
            found.append(f"{log.name}: {needles[match]}")
    return sorted(found), scanned


# The faults a chaos run adds to the process kills, and when (the share of the run).
FAULTS = {"broker": 0.4, "whatsapp outage": 0.5, "postgres": 0.7}


def run(*, users: int, spawn_rate: float, duration_s: int, out: Path, drain_s: float = 180,
        api_processes: int | None = None, workers: int | None = None,
        dispatchers: int | None = None, chaos: bool = False,
        faults: Collection[str] = tuple(FAULTS), kill_gap_s: tuple[float, float] = (20, 40),
        sweeper_deadline_s: float = 30, observer: Observer | None = None,
        locust_env: dict[str, str] | None = None) -> LoadResult:
    """Run the load (and with `chaos` the kills every `kill_gap_s`, and the `faults`) and
    judge it; see the module's docstring."""
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    begun = time.monotonic()
    fakes_log, up_log, locust_log = out / "fakes.log", out / "fte-up.log", out / "locust.log"
    env_file, sent_file = out / "fakes.env", out / "sent.jsonl"
    base_env = {k: v for k, v in os.environ.items() if k not in STRIP}
    with fakes_log.open("wb") as log:
        fakes = subprocess.Popen([sys.executable, "-m", "tests.load.fakes", str(out)],
                                 cwd=ROOT, env=base_env, stdout=log, stderr=subprocess.STDOUT)
    up: subprocess.Popen[bytes] | None = None
    try:
        _wait_for(env_file.exists, "the fakes", 60, fakes, fakes_log)
        port = free_port()
        up_env = dict(base_env, API_TRUSTED_PROXIES="127.0.0.1", LOG_LEVEL="INFO")
        if chaos:  # a broker that loses everything: the sweeper re-queues within the drain
            up_env.update(FTE_SWEEPER_DEADLINE_S=str(sweeper_deadline_s))
        for name, count in (("FTE_UP_API_PROCESSES", api_processes),
                            ("FTE_UP_WORKERS", workers), ("FTE_UP_DISPATCHERS", dispatchers)):
            if count:
                up_env[name] = str(count)
        with up_log.open("wb") as log:
            up = subprocess.Popen(
                [sys.executable, "-m", "production.cli", "up", "--data-dir", str(out / "fte"),
                 "--port", str(port), "--env-file", str(env_file)],
                cwd=ROOT, env=up_env, stdout=log, stderr=subprocess.STDOUT)
        _wait_for(lambda: "Press Ctrl-C" in up_log.read_text(errors="replace"), "fte up", 300,
                  up, up_log)
        where = re.search(r"PostgreSQL 18 \+ pgvector at (127\.0\.0\.1:\d+/\w+)",
                          up_log.read_text())
        assert where, "fte up did not say where its database is"
        dsn = f"postgresql://postgres@{where.group(1)}"
        started = time.monotonic()
        stack_start_s = started - begun
        at = {fault: duration_s * share if fault in faults else None
              for fault, share in FAULTS.items()}
        killer = Chaos(up.pid, health_url=f"http://127.0.0.1:{port}/api/v1/health",
                       broker_at_s=at["broker"], postgres_at_s=at["postgres"],
                       whatsapp_outage_at_s=at["whatsapp outage"],
                       min_gap_s=kill_gap_s[0], max_gap_s=kill_gap_s[1],
                       control_url=dotenv_values(env_file)["FAKE_CONTROL_URL"] or "") \
            if chaos else None
        if killer is not None:
            killer.start()
        if observer is not None:
            observer.start(up_pid=up.pid, dsn=dsn, fakes_pid=fakes.pid)
        with locust_log.open("wb") as log:
            subprocess.run(
                [sys.executable, "-m", "locust", "-f", str(ROOT / "tests/load/locustfile.py"),
                 "--headless", "-u", str(users), "-r", str(spawn_rate), "-t", f"{duration_s}s",
                 "--host", f"http://127.0.0.1:{port}", "--csv", str(out / "locust"),
                 "--html", str(out / "locust.html"), "--only-summary", "--stop-timeout", "5",
                 "--exit-code-on-error", "0"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True,
                env=dict(base_env, LOAD_ENV_FILE=str(env_file), LOAD_SENT_FILE=str(sent_file),
                         PYTHONPATH=str(ROOT), **(locust_env or {})))
        if killer is not None:
            killer.stop()
        if observer is not None:
            observer.stop()
        load_ended = time.monotonic()
        client = check.sent_by_client(sent_file)
        deadline = load_ended + drain_s
        while True:
            inbound, replies = asyncio.run(check.database_rows(dsn))
            if check.settled(client, inbound, replies) or time.monotonic() > deadline:
                break
            time.sleep(1)
        drained = time.monotonic() - load_ended
        if observer is not None:
            observer.finish(inbound, replies)
        sends = check.provider_sends(dotenv_values(env_file)["FAKE_CONTROL_URL"] or "")
        sends["email"] -= asyncio.run(check.operator_mail(dsn))
        channels = check.as_dict(check.figures(client, inbound, replies, sends))
    finally:
        if up is not None:
            stop_process(up, sig=signal.SIGINT, timeout_s=90)
        stop_process(fakes, timeout_s=30)
    identities = {entry["customer"] for entry in client}
    logs = [up_log, out / "fte" / "pgdata.log", fakes_log]
    found, scanned = pii_in_logs(logs, identities)
    result = LoadResult(users=users, duration_s=round(time.monotonic() - started, 1),
                        channels=channels, pii_found=found, identities=len(identities),
                        logs_scanned=scanned, locust=_locust_totals(out),
                        drained_s=round(drained, 1),
                        kills=[asdict(kill) for kill in killer.kills] if killer else [],
                        stack_start_s=round(stack_start_s, 1))
    (out / "report.json").write_text(json.dumps(result.__dict__, indent=2, default=str))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load.run")
    parser.add_argument("--users", type=int, default=120)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", type=int, default=300, help="seconds of load")
    parser.add_argument("--drain", type=float, default=180,
                        help="seconds to wait after the load for the last replies")
    parser.add_argument("--api-processes", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--dispatchers", type=int, default=None)
    parser.add_argument("--chaos", action="store_true",
                        help="SIGKILL a random API and worker process every 20-40 s, and the "
                             "broker (at 40%% of the run) and PostgreSQL (70%%) once, and make the "
                             "WhatsApp provider answer 503 for 60 s (at 50%%)")
    parser.add_argument("--processes-only", action="store_true",
                        help="with --chaos: only the API and worker processes")
    parser.add_argument("--out", default="load-results")
    args = parser.parse_args(argv)
    result = run(users=args.users, spawn_rate=args.spawn_rate, duration_s=args.duration,
                 out=Path(args.out), drain_s=args.drain, api_processes=args.api_processes,
                 workers=args.workers, dispatchers=args.dispatchers, chaos=args.chaos,
                 faults=() if args.processes_only else tuple(FAULTS))
    print(json.dumps(result.__dict__, indent=2, default=str))
    print("PASS" if result.ok else "FAIL: something was lost, duplicated or logged")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
