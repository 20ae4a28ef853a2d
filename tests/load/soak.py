"""`make soak`: the three-channel load at a steady rate for a long while, every process of
`fte up` sampled once a minute, and the trends judged (tests/load/soak_summary.py).

    python -m tests.load.soak --duration 2700 --out load-results-soak

The load is `make load`'s (tests/load/run.py, the locustfile) with each simulated customer
paced (`LOAD_PACING_S`: one web submission, WhatsApp burst or mail per user every that many
seconds, Locust's `constant_pacing`), so the rate is fixed rather than as fast as the stack
answers. Once a minute the sampler reads, for every process under `fte up` (the supervisor,
the API and each of its uvicorn processes, workers, dispatchers, relay, scheduler, the broker,
PostgreSQL's postmaster and its backends in aggregate, Prometheus), the provider fakes and
Locust: RSS, PSS and USS, open file descriptors (/proc/PID/fd), threads, CPU seconds and the
database connections it holds (its sockets to PostgreSQL, by pg_stat_activity's state); and
the database (connections, the outbox backlog, inbound messages accepted and not processed,
replies not delivered yet), each consumer group's lag (the workers' and dispatchers'
/metrics) and the load average. Out dir: samples.jsonl, processes.csv, system.csv,
summary.json and the load's own report (report.json, Locust's CSV and HTML).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families

from tests.load import soak_summary
from tests.load.run import run

MB = 1024 * 1024
COMMANDS = ("api", "worker", "dispatcher", "relay", "scheduler")
# The load harness, not the product: the fakes keep every mail and message they were sent (the
# check counts them), Locust its statistics. Reported, not judged.
HARNESS = ("fakes", "locust")

_DB_QUERY = """
    SELECT
      (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS outbox_backlog,
      (SELECT count(*) FROM messages WHERE direction = 'inbound' AND status = 'accepted')
          AS unprocessed_inbound,
      (SELECT count(*) FROM messages WHERE role = 'agent'
           AND status NOT IN ('delivered', 'delivery_failed', 'rejected')) AS undelivered_replies,
      pg_database_size(current_database()) AS database_bytes
"""
_ACTIVITY = """
    SELECT client_port, state FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
"""


def _kind(cmdline: list[str], parent: list[str]) -> str:
    """Name a process under `fte up` by what it runs (numbered later when there are several)."""
    joined = " ".join(cmdline)
    if "production.cli" in cmdline and cmdline[-1] in COMMANDS:
        return cmdline[-1]
    if "multiprocessing.spawn" in joined and parent[-1:] == ["api"]:
        return "api-process"
    if "multiprocessing.resource_tracker" in joined:
        return "resource-tracker"
    if cmdline and "tansu" in cmdline[0]:
        return "broker"
    if cmdline and cmdline[0].endswith("/postgres"):
        return "postgres"
    if joined.startswith("postgres: "):
        return "postgres-backends" if re.search(r"\(\d+\)|\[local\]", joined) \
            else "postgres-aux"
    if cmdline and "prometheus" in Path(cmdline[0]).name:
        return "prometheus"
    return Path(cmdline[0]).name if cmdline else "?"


# Kinds summed into one row: PostgreSQL starts a backend per connection.
GROUPS = ("postgres-backends", "postgres-aux")


def processes(up_pid: int, extra: dict[str, int]) -> dict[str, list[psutil.Process]]:
    """Every process to sample, by name: `fte up` ("supervisor") and its descendants (a kind
    with several processes numbered by start time, but the PostgreSQL groups), and `extra`."""
    up = psutil.Process(up_pid)
    kinds: dict[str, list[psutil.Process]] = defaultdict(list)
    for proc in up.children(recursive=True):
        try:
            parent = proc.parent()
            kinds[_kind(proc.cmdline(), parent.cmdline() if parent else [])].append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    named: dict[str, list[psutil.Process]] = {"supervisor": [up]}
    for kind, procs in kinds.items():
        if kind in GROUPS or len(procs) == 1:
            named[kind] = procs
            continue
        procs.sort(key=lambda p: (p.create_time(), p.pid))
        for n, proc in enumerate(procs, 1):
            named[f"{kind}-{n}"] = [proc]
    for name, pid in extra.items():
        if psutil.pid_exists(pid):
            named[name] = [psutil.Process(pid)]
    return named


def _measure(procs: list[psutil.Process], pg_port: int,
             ports: dict[int, str], name: str) -> dict[str, Any]:
    """Sum one name's processes' memory, files, threads, CPU and database sockets; note each
    socket's local port in `ports` (to match pg_stat_activity's client_port)."""
    row: dict[str, Any] = {"count": 0, "pids": [], "rss_mb": 0.0, "pss_mb": 0.0, "uss_mb": 0.0,
                           "max_rss_mb": 0.0, "fds": 0, "threads": 0, "cpu_s": 0.0,
                           "db_connections": 0}
    for proc in procs:
        try:
            with proc.oneshot():
                memory = proc.memory_full_info()
                fds, threads, cpu = proc.num_fds(), proc.num_threads(), proc.cpu_times()
                sockets = [] if name.startswith("postgres") else [
                    c for c in proc.net_connections("tcp") if c.raddr and c.raddr.port == pg_port]
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        row["count"] += 1
        row["pids"].append(proc.pid)
        row["rss_mb"] += memory.rss / MB
        row["pss_mb"] += getattr(memory, "pss", memory.rss) / MB
        row["uss_mb"] += memory.uss / MB
        row["max_rss_mb"] = max(row["max_rss_mb"], memory.rss / MB)
        row["fds"] += fds
        row["threads"] += threads
        row["cpu_s"] += cpu.user + cpu.system
        row["db_connections"] += len(sockets)
        for sock in sockets:
            ports[sock.laddr.port] = name
    for key in ("rss_mb", "pss_mb", "uss_mb", "max_rss_mb", "cpu_s"):
        row[key] = round(row[key], 2)
    return row


async def _database(dsn: str, ports: dict[int, str]) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        figures = dict(await conn.fetchrow(_DB_QUERY) or {})
        by_process: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        total = 0
        for row in await conn.fetch(_ACTIVITY):
            by_process[ports.get(row["client_port"], "other")][row["state"] or "?"] += 1
            total += 1
    finally:
        await conn.close()
    return {"db": {"total": total, "by_process": {k: dict(v) for k, v in by_process.items()},
                   "size_mb": round(figures.pop("database_bytes") / MB, 1)}, **figures}


def consumer_lag(named: dict[str, list[psutil.Process]]) -> dict[str, float]:
    """Each consumer group's lag summed over its partitions, from the /metrics of every worker
    and dispatcher (its METRICS_PORT)."""
    lag: dict[str, float] = defaultdict(float)
    for name, procs in named.items():
        if not name.startswith(("worker", "dispatcher")):
            continue
        try:
            port = procs[0].environ().get("METRICS_PORT")
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except (psutil.Error, httpx.HTTPError):
            continue
        for family in text_string_to_metric_families(text):
            if family.name == "fte_consumer_lag":
                for sample in family.samples:
                    lag[sample.labels["group"]] += sample.value
    return dict(lag)


def take_sample(*, t_s: float, up_pid: int, dsn: str, extra: dict[str, int]) -> dict[str, Any]:
    """One sample of everything (see the module's docstring)."""
    pg_port = int(re.search(r":(\d+)/", dsn).group(1))  # type: ignore[union-attr]
    named = processes(up_pid, extra)
    ports: dict[int, str] = {}
    rows = {name: _measure(procs, pg_port, ports, name) for name, procs in named.items()}
    sample: dict[str, Any] = {"t_s": round(t_s, 1), "at": datetime.now(UTC).isoformat(),
                              "loadavg": list(os.getloadavg()),
                              "processes": {k: v for k, v in rows.items() if v["count"]}}
    try:
        sample.update(asyncio.run(_database(dsn, ports)))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        sample["db"] = {"error": type(exc).__name__}
    sample["consumer_lag"] = consumer_lag(named)
    return sample


@dataclass
class Sampler:
    """Samples every `interval_s` from `start` (once at once) until `stop` (once more then),
    appending each to OUT/samples.jsonl; `finish` keeps the settled database rows."""

    out: Path
    interval_s: float = 60.0
    samples: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    load_started: datetime | None = None
    load_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, *, up_pid: int, dsn: str, fakes_pid: int) -> None:
        self.load_started = datetime.now(UTC)
        started = time.monotonic()

        def loop() -> None:
            while True:
                extra = {"fakes": fakes_pid, **_locust()}
                try:
                    sample = take_sample(t_s=time.monotonic() - started, up_pid=up_pid,
                                         dsn=dsn, extra=extra)
                except (psutil.Error, OSError) as exc:  # the stack went away
                    self.errors.append(repr(exc))
                else:
                    self.samples.append(sample)
                    with (self.out / "samples.jsonl").open("a") as handle:
                        handle.write(json.dumps(sample) + "\n")
                if self._stop.is_set():
                    self.load_s = time.monotonic() - started
                    return
                self._stop.wait(self.interval_s - (time.monotonic() - started)
                                % self.interval_s)

        self._thread = threading.Thread(target=loop, name="soak-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(120)

    def finish(self, inbound: list[Any], replies: list[Any]) -> None:
        """Keep each reply's channel, status and times (OUT/replies.jsonl too)."""
        keys = ("channel", "status", "accepted_at", "delivered_at")
        self.replies = [{key: row[key] for key in keys} for row in replies]
        with (self.out / "replies.jsonl").open("w") as handle:
            handle.writelines(json.dumps(reply, default=str) + "\n" for reply in self.replies)


def _locust() -> dict[str, int]:
    """The Locust process the runner started (a child of this one), if running."""
    for proc in psutil.Process().children():
        try:
            if "locust" in proc.cmdline():
                return {"locust": proc.pid}
        except psutil.Error:
            continue
    return {}


def write_csv(out: Path, samples: list[dict[str, Any]]) -> None:
    """processes.csv (one row per sample and process) and system.csv (one per sample)."""
    keys = ("count", "rss_mb", "pss_mb", "uss_mb", "max_rss_mb", "fds", "threads", "cpu_s",
            "db_connections")
    with (out / "processes.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("t_s", "process", *keys))
        for s in samples:
            for name, row in sorted(s["processes"].items()):
                writer.writerow((s["t_s"], name, *(row[k] for k in keys)))
    with (out / "system.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("t_s", "load1", "load5", "load15", "db_connections", "db_size_mb",
                         "outbox_backlog", "unprocessed_inbound", "undelivered_replies",
                         "consumer_lag"))
        for s in samples:
            writer.writerow((s["t_s"], *s["loadavg"], s["db"].get("total"),
                             s["db"].get("size_mb"), s.get("outbox_backlog"),
                             s.get("unprocessed_inbound"), s.get("undelivered_replies"),
                             sum(s["consumer_lag"].values())))


def summarize(sampler: Sampler, channels: dict[str, dict[str, Any]], *,
              warmup_s: float) -> dict[str, Any]:
    """The soak's summary: per process and system trends, latency in the first and last ten
    minutes, volumes and what was lost or duplicated, and the verdict."""
    assert sampler.load_started is not None
    load_s = sampler.load_s or (sampler.samples[-1]["t_s"] if sampler.samples else 0.0)
    summary: dict[str, Any] = {
        "load_started": sampler.load_started.isoformat(), "load_s": round(load_s, 1),
        "samples": len(sampler.samples), "warmup_s": warmup_s,
        "processes": soak_summary.processes(sampler.samples, warmup_s=warmup_s),
        "system": soak_summary.system(sampler.samples, warmup_s=warmup_s),
        "latency": soak_summary.latency_windows(
            sampler.replies, load_started=sampler.load_started, load_s=load_s),
        "volumes": soak_summary.volumes(channels, load_s=load_s),
        "channels": channels, "sampler_errors": sampler.errors,
        "expected_growth": {name: "the load harness" for name in HARNESS}}
    summary["problems"] = soak_summary.verdict(summary)
    return summary


def from_dir(out: Path, *, warmup_s: float) -> dict[str, Any]:
    """Summarize a soak's out dir again (another warm-up; or while it still runs: the
    samples so far, and no channels or latency until the run has written them)."""
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    sampler = Sampler(out, samples=samples,
                      load_started=datetime.fromisoformat(samples[0]["at"]))
    sampler.load_s = samples[-1]["t_s"]
    if (out / "replies.jsonl").exists():
        for line in (out / "replies.jsonl").read_text().splitlines():
            reply = json.loads(line)
            for key in ("accepted_at", "delivered_at"):
                reply[key] = reply[key] and datetime.fromisoformat(reply[key])
            sampler.replies.append(reply)
    report = out / "report.json"
    channels = json.loads(report.read_text())["channels"] if report.exists() else {}
    return summarize(sampler, channels, warmup_s=warmup_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load.soak")
    parser.add_argument("--duration", type=int, default=2700, help="seconds of load")
    parser.add_argument("--users", type=int, default=10,
                        help="customers at once (web form 4 : WhatsApp 3 : email 3)")
    parser.add_argument("--pacing", type=float, default=15.0,
                        help="seconds between one user's submissions, bursts or mails")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=600.0,
                        help="seconds of samples left out of the slopes")
    parser.add_argument("--out", default="load-results-soak")
    parser.add_argument("--summarize", action="store_true",
                        help="only summarize the samples already in --out")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    if args.summarize:
        summary = from_dir(out, warmup_s=args.warmup)
        print(json.dumps(summary["system"], indent=2), soak_summary.table(summary),
              summary["problems"], sep="\n")
        return 0
    sampler = Sampler(out, interval_s=args.interval)
    # Users start one after another over one pacing period, so their submissions interleave.
    result = run(users=args.users, spawn_rate=args.users / args.pacing,
                 duration_s=args.duration, out=out, observer=sampler,
                 locust_env={"LOAD_PACING_S": str(args.pacing)})
    write_csv(out, sampler.samples)
    summary = summarize(sampler, result.channels, warmup_s=args.warmup)
    summary.update(users=args.users, pacing_s=args.pacing, pii_found=result.pii_found,
                   locust=result.locust, drained_s=result.drained_s)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    (out / "summary.md").write_text(soak_summary.table(summary) + "\n")
    print(json.dumps(summary, indent=2, default=str))
    print(soak_summary.table(summary))
    ok = result.ok and not summary["problems"]
    print("PASS" if ok else f"FAIL: {summary['problems'] or 'lost, duplicated or logged'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
