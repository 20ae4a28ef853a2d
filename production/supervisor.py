"""`fte up`: the whole local stack as supervised child processes.

Starts (unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS point elsewhere) the embedded PostgreSQL
and the local Kafka-protocol broker, migrates, creates the topics, loads the knowledge base when
it is empty, opts the internal tenant into the local demo's autonomy (unless --observe-only),
then runs `fte api`, `fte worker` and `fte dispatcher` (as many as FTE_UP_API_PROCESSES,
FTE_UP_WORKERS and FTE_UP_DISPATCHERS say), `fte relay` and `fte scheduler`, and Debian's
Prometheus scraping each of them when it is installed, restarting each child, the database or
the broker that dies, on its own. The banner's console link signs the local operator in once.
One event loop does it all (waits, revivals, the sandbox watcher), so no event loop is ever
started inside another. Ctrl-C (or SIGTERM) stops every child cleanly, then Prometheus, the
broker and the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import structlog

from production import clock, settings_env
from production.config import INTERNAL_TENANT, Settings, UpSettings
from production.database.migrate import migrate
from production.database.pool import create_pool
from production.embeddings import embedder_for
from production.local_stack import (
    EmbeddedPostgres,
    LocalBroker,
    LocalPrometheus,
    free_port,
    stop_process,
)
from production.messaging.kafka import ensure_topics
from production.services import care_admin, digest_mail, local_sign_in, sandbox_feed, ticket_access
from production.services.care_admin import AutonomyView
from production.services.knowledge import KnowledgeStatus, load_if_empty

log = structlog.get_logger(__name__)

# On one small machine every process shares the same cores. The API answers people and has a
# latency target; the worker and dispatcher drain a queue and catch up after a burst, so
# locally they run at a lower CPU priority (in Kubernetes each has its own CPU request).
BACKGROUND = {"worker": 10, "dispatcher": 5}
# The monitoring rules Prometheus loads, when the repository has them.
RULES = Path("monitoring/prometheus/fte.rules.yml")


def plan(up: UpSettings) -> list[tuple[str, str]]:
    """Return each child's (name, `fte` command): one API (its processes are uvicorn's,
    FTE_UP_API_PROCESSES), FTE_UP_WORKERS workers, FTE_UP_DISPATCHERS dispatchers, one relay
    (several would only stand by: one relay leads) and one scheduler."""
    counts = {"api": 1, "worker": up.workers, "dispatcher": up.dispatchers, "relay": 1,
              "scheduler": 1}
    return [(command if count == 1 else f"{command}-{n}", command)
            for command, count in counts.items() for n in range(1, count + 1)]


@dataclass
class Child:
    name: str
    command: str
    env: dict[str, str]
    metrics_port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0

    def argv(self) -> list[str]:
        """Return the child's command line; a background one starts through `nice`, which
        lowers its priority before it runs (so every thread it starts has it too) without a
        preexec_fn in this process, which is not safe once it has threads."""
        argv = [sys.executable, "-m", "production.cli", self.command]
        niceness = BACKGROUND.get(self.command)
        return ["nice", "-n", str(niceness), *argv] if niceness else argv

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv(), env=self.env)
        self.started_at = time.monotonic()

    def stop(self, timeout_s: float = 10.0) -> None:
        stop_process(self.proc, timeout_s=timeout_s)


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if asked to stop meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


@dataclass
class LocalStack:
    settings: Settings
    data_dir: Path
    autonomy_demo: bool = True
    api_port: int | None = None
    postgres: EmbeddedPostgres | None = None
    broker: LocalBroker | None = None
    prometheus: LocalPrometheus | None = None
    prometheus_note: str = ""  # what the banner says of it: where, or why not
    children: list[Child] = field(default_factory=list)

    async def start_infrastructure(self) -> Settings:
        """Start what is not configured externally; return the settings pointing at it."""
        db = self.settings.database.url
        if db is None:
            self.postgres = EmbeddedPostgres(self.data_dir / "pgdata")
            await asyncio.to_thread(self.postgres.start)
            database_url = self.postgres.url
        else:
            database_url = db.get_secret_value()
        servers = self.settings.kafka.bootstrap_servers
        if servers is None:
            self.broker = LocalBroker()
            await asyncio.to_thread(self.broker.start)
            servers = self.broker.bootstrap_servers
        stack = settings_env.with_database(self.settings, database_url)
        stack.kafka.bootstrap_servers = servers
        stack.api.port = self.api_port or stack.api.port
        return stack

    def child_settings(self, stack: Settings) -> Settings:
        """Return the settings the children run on: the stack's, with the API's process count,
        what the local broker cannot do turned off and, for the demo, the autonomy opt-in."""
        child = stack.model_copy(deep=True)
        child.api.workers = stack.up.api_processes or min(2, os.cpu_count() or 1)
        if self.broker is not None:
            child.kafka.enable_idempotence = False
        if self.autonomy_demo:
            # The local demo's explicit opt-in: only the internal tenant may act on its own.
            child.care.autonomy_enabled, child.care.shadow_mode = True, False
        return child

    async def prepare(self, settings: Settings) -> tuple[KnowledgeStatus, AutonomyView, str]:
        """Migrate, create the topics, load the knowledge base when empty and, for the demo,
        opt the internal tenant in; return what the banner reports and its sign-in token."""
        await migrate(settings.database_url())
        await ensure_topics(settings)
        pool = await create_pool(settings, min_size=1, max_size=2)
        try:
            kb = await load_if_empty(pool=pool, tenant_id=INTERNAL_TENANT, folder=Path("context"),
                                     embedder=embedder_for(settings))
            if self.autonomy_demo:
                view = await care_admin.opt_in_local_demo(
                    pool=pool, settings=settings, tenant_id=INTERNAL_TENANT, now=clock.now())
            else:
                view = await care_admin.autonomy(pool=pool, settings=settings,
                                                 tenant_id=INTERNAL_TENANT)
            await digest_mail.give_local_demo_an_address(pool=pool, tenant_id=INTERNAL_TENANT,
                                                         now=clock.now())
            token = await local_sign_in.issue(
                pool=pool, tenant_id=INTERNAL_TENANT, now=clock.now(),
                ttl=timedelta(seconds=settings.up.sign_in_ttl_s))
            return kb, view, token
        finally:
            await pool.close()

    def start_children(self, child: Settings) -> None:
        env = settings_env.child_env(child)
        for name, command in plan(child.up):
            # The API serves /metrics itself; every other child on a port of its own.
            port = child.api.port if command == "api" else free_port()
            metrics = "0" if command == "api" else str(port)
            started = Child(name, command, dict(env, METRICS_PORT=metrics), port)
            started.start()
            self.children.append(started)

    def start_prometheus(self, child: Settings) -> None:
        """Start Prometheus scraping every child, when it is installed; else note why not."""
        binary, why = child.up.prometheus_bin, ": each process still serves its /metrics"
        if not binary.exists():
            self.prometheus_note = f"not installed ({binary}; `make run` installs Debian's){why}"
            return
        server = LocalPrometheus(binary, self.data_dir / "prometheus",
                                 {c.name: c.metrics_port for c in self.children},
                                 rules=RULES.resolve() if RULES.exists() else None)
        try:
            server.start()
        except (OSError, RuntimeError, TimeoutError) as exc:
            server.stop()
            self.prometheus_note = f"failed ({exc}; see {server.data_dir}/prometheus.log){why}"
            return
        self.prometheus, self.prometheus_note = server, server.describe()

    async def revive_infrastructure(self, settings: Settings) -> None:
        """Restart the embedded database or broker if it died, on the same port.

        The database keeps its data. The broker keeps nothing (memory storage): its topics are
        created again, and the sweeper re-queues what was accepted but never processed.
        """
        if self.postgres is not None and self.postgres.proc is not None \
                and self.postgres.proc.poll() is not None:
            log.warning("postgres_restarted", code=self.postgres.proc.returncode)
            await asyncio.to_thread(self.postgres.start)
        if self.broker is not None and self.broker.proc is not None \
                and self.broker.proc.poll() is not None:
            log.warning("broker_restarted", code=self.broker.proc.returncode)
            await asyncio.to_thread(self.broker.start)
            await ensure_topics(settings)

    def supervise_once(self) -> None:
        """Restart each child that died, on its own, backing off when one keeps dying."""
        for child in self.children:
            if child.proc is not None and child.proc.poll() is not None:
                if time.monotonic() - child.started_at < 2 ** min(child.restarts, 5):
                    continue
                child.restarts += 1
                log.warning("child_restarted", child=child.name, code=child.proc.returncode,
                            restarts=child.restarts)
                child.start()

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.proc is not None and child.proc.poll() is None:
                child.proc.terminate()
        for child in reversed(self.children):
            child.stop()
        if self.prometheus is not None:
            self.prometheus.stop()
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            self.postgres.stop()

    async def run(self) -> int:
        """Start the stack, print the banner once it is ready, and supervise it until
        SIGINT or SIGTERM; return the exit code."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        watcher: asyncio.Task[None] | None = None
        try:
            stack = await self.start_infrastructure()
            kb, view, token = await self.prepare(stack)
            children = self.child_settings(stack)
            self.start_children(children)
            await asyncio.to_thread(self.start_prometheus, children)
            health_url = f"http://127.0.0.1:{stack.api.port}/api/v1/health"
            print("Starting: waiting for the API and for every consumer to hold its "
                  "partitions...", flush=True)
            # Each API process keeps its own view of the consumers, and the kernel hands each
            # new connection to one of them: the banner waits for a run of ready answers long
            # enough that every process has, almost surely, answered one (a miss chance of
            # 2 x 2^-12 with two processes).
            needed, streak = READY_ANSWERS_PER_PROCESS * children.api.workers, 0
            while not stopping.is_set():
                await self.revive_infrastructure(stack)
                self.supervise_once()
                if watcher is None:
                    ready = await asyncio.to_thread(stack_ready, health_url)
                    streak = streak + 1 if ready else 0
                if watcher is None and streak >= needed:
                    print(banner(self, stack.database_url(), stack.kafka_servers(), kb, view,
                                 token), flush=True)
                    watcher = asyncio.create_task(sandbox_feed.follow(
                        settings=stack, tenant_id=stack.default_tenant,
                        links=ticket_access.links_for(settings=stack),
                        emit=lambda block: print(block, flush=True)))
                await _pause(stopping, 0.1 if watcher is None else 0.2)
            print("Stopping the local stack...", flush=True)
            return 0
        finally:
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
            self.stop()


READY_ANSWERS_PER_PROCESS = 6


def stack_ready(health_url: str, *, timeout_s: float = 1.0) -> bool:
    """Return whether the API answers its health check and is past `starting`: the database
    answers and the worker's and the dispatcher's consumers hold their partitions."""
    try:
        with urllib.request.urlopen(health_url, timeout=timeout_s) as res:  # noqa: S310
            return bool(json.load(res).get("status") in ("healthy", "degraded"))
    except (OSError, ValueError, urllib.error.URLError):
        return False


def autonomy_line(autonomy_demo: bool, view: AutonomyView) -> str:
    """Return what the banner says about autonomy: who is opted in, and how far."""
    if not autonomy_demo:
        return "OFF (observe-only): replies wait as drafts with an audit row"
    stored = view.settings
    consent = ("new customers hands-off" if stored.hands_off_new_customers
               else "customers hands-off only when opted in one by one")
    limits = (f"{stored.max_actions_per_customer_day}/customer/day, budget "
              f"{stored.daily_budget}/day, {stored.min_interval_s}s apart")
    halted = " — KILL SWITCH ENGAGED" if view.kill_switch or view.global_kill_switch else ""
    return (f"ON for the internal tenant '{INTERNAL_TENANT}' only (local demo opt-in: mode "
            f"{stored.mode}, {consent}, {limits}; code defaults are observe-only, start with "
            f"--observe-only to keep drafts){halted}")


def banner(stack: LocalStack, database_url: str, servers: str, kb: KnowledgeStatus,
           view: AutonomyView, token: str) -> str:
    host = "127.0.0.1"
    port = stack.api_port or stack.settings.api.port
    base = f"http://{host}:{port}"
    autonomy = autonomy_line(stack.autonomy_demo, view)
    db_note = "embedded PostgreSQL 18 + pgvector" if stack.postgres else "external PostgreSQL"
    kafka_note = "local tansu broker (memory)" if stack.broker else "external Kafka"
    lines = [
        "",
        "Customer Success Digital FTE is up",
        f"  Support form       {base}/support  (embed it anywhere: "
        f'<script src="{base}/widget.js"></script>)',
        f"  Operator console   {base}/console#token={token}  (one click signs you in: once, "
        f"within {int(stack.settings.up.sign_in_ttl_s // 60)} min, from this machine)",
        f"  Support form API   POST {base}/api/v1/support/form",
        f"  Ticket status      GET  {base}/api/v1/tickets/TKT-<n>  (Authorization: Bearer "
        "<the access_token the form's answer or the reply's link carries>)",
        f"  Health             {base}/api/v1/health",
        f"  Sandbox outbox     GET  {base}/api/v1/sandbox/messages  (email and WhatsApp "
        "replies without credentials are recorded, and printed here)",
        f"  Metrics            {base}/metrics",
        f"  Prometheus         {stack.prometheus_note}",
        f"  API docs           {base}/docs",
        f"  Database           {db_note} at {database_url.split('@')[-1]}",
        f"  Kafka              {kafka_note} at {servers}",
        f"  Knowledge base     {kb.sections} sections"
        + (" (loaded now from context/)" if kb.loaded_now else "")
        + ("" if kb.sections else ": EMPTY, run from the repository root to load context/"),
        f"  C.A.R.E. autonomy  {autonomy}",
        "  Press Ctrl-C to stop everything.",
        "",
    ]
    return "\n".join(lines)


def run_up(settings: Settings, *, data_dir: Path, autonomy_demo: bool,
           api_port: int | None) -> int:
    """Run `fte up` until SIGINT or SIGTERM; return the exit code."""
    stack = LocalStack(settings, data_dir=data_dir, autonomy_demo=autonomy_demo,
                       api_port=api_port)
    return asyncio.run(stack.run())
