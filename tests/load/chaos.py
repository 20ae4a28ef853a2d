"""Chaos under the load: SIGKILL a random API process and a random worker process of a running
`fte up` every 20-40 s, and time how long until a replacement runs (uvicorn restarts its API
processes, the supervisor its children); once the broker (SIGKILL: memory storage, everything
it held is gone) and once PostgreSQL (an immediate shutdown, SIGQUIT: what a crash leaves,
recovered from its WAL), each timed until the health check says it is back; and the WhatsApp
provider answering 503 for a minute. What was lost or duplicated is the load's check.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from dataclasses import dataclass, field

import httpx
import psutil


@dataclass(frozen=True)
class Kill:
    at_s: float  # since the chaos started
    kind: str  # "api", "worker", "broker" or "postgres"
    pid: int
    # Until as many of its kind run again (broker, postgres: until healthy); None: not seen.
    replaced_after_s: float | None


def _of_kind(up_pid: int, kind: str) -> list[psutil.Process]:
    """The live processes of one kind under `fte up`: uvicorn's API processes (the spawned
    children of `fte api`) or the `fte worker` children."""
    found = []
    for proc in psutil.Process(up_pid).children(recursive=True):
        try:
            parent = proc.parent()
            if _is(kind, proc.cmdline(), parent.cmdline() if parent is not None else []):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return [p for p in found if p.status() != psutil.STATUS_ZOMBIE]


def _infrastructure(up_pid: int, kind: str) -> psutil.Process | None:
    """`fte up`'s broker (tansu) or PostgreSQL's postmaster, if running."""
    for proc in psutil.Process(up_pid).children():
        try:
            cmdline = proc.cmdline()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if kind == "broker" and cmdline and "tansu" in cmdline[0]:
            return proc
        if kind == "postgres" and cmdline and cmdline[0].endswith("/postgres") \
                and "-D" in cmdline:
            return proc
    return None


def _is(kind: str, cmdline: list[str], parent: list[str]) -> bool:
    if kind == "worker":
        return cmdline[-1:] == ["worker"] and "production.cli" in cmdline
    return "multiprocessing.spawn" in " ".join(cmdline) and parent[-1:] == ["api"]


@dataclass
class Chaos:
    up_pid: int
    health_url: str = ""
    # Seconds into the chaos at which the broker, then PostgreSQL, is killed once (None: never).
    broker_at_s: float | None = None
    postgres_at_s: float | None = None
    # ... and at which the WhatsApp provider answers 503 for `outage_s` (the fakes' control).
    whatsapp_outage_at_s: float | None = None
    outage_s: float = 60.0
    control_url: str = ""
    min_gap_s: float = 20.0
    max_gap_s: float = 40.0
    kills: list[Kill] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)

    def _run(self) -> None:
        started = time.monotonic()
        pending = {kind: at for kind, at in (("broker", self.broker_at_s),
                                             ("postgres", self.postgres_at_s),
                                             ("whatsapp outage", self.whatsapp_outage_at_s))
                   if at is not None}
        while not self._stop.wait(random.uniform(self.min_gap_s, self.max_gap_s)):
            for kind, at in sorted(pending.items(), key=lambda item: item[1]):
                if time.monotonic() - started >= at:
                    del pending[kind]
                    self._kill_infrastructure(kind, started)
                    break
            for kind in ("api", "worker"):
                running = _of_kind(self.up_pid, kind)
                if not running:
                    continue
                victim = random.choice(running)
                at = time.monotonic()
                try:
                    victim.send_signal(signal.SIGKILL)
                except psutil.NoSuchProcess:
                    continue
                replaced = self._replaced(kind, len(running), victim.pid, at)
                self.kills.append(Kill(round(at - started, 1), kind, victim.pid, replaced))

    def _kill_infrastructure(self, kind: str, started: float) -> None:
        if kind == "whatsapp outage":
            httpx.post(f"{self.control_url}/outage", params={"seconds": self.outage_s},
                       timeout=10)
            self.kills.append(Kill(round(time.monotonic() - started, 1), kind, 0,
                                   self.outage_s))
            return
        victim = _infrastructure(self.up_pid, kind)
        if victim is None:
            return
        at = time.monotonic()
        victim.send_signal(signal.SIGKILL if kind == "broker" else signal.SIGQUIT)
        back = self._healthy_again(kind, since=at)
        self.kills.append(Kill(round(at - started, 1), kind, victim.pid, back))

    def _healthy_again(self, kind: str, *, since: float) -> float | None:
        """Seconds until the API's health check says the component is up again."""
        time.sleep(0.5)  # let it be seen down first
        while time.monotonic() - since < 120:
            try:
                res = httpx.get(self.health_url, timeout=2)
                components = res.json().get("components", {})
                if kind == "postgres" and res.status_code == 200 \
                        and components.get("database") == "up":
                    return round(time.monotonic() - since, 2)
                consumers = components.get("consumers", {}).values()
                if kind == "broker" and components.get("kafka") == "up" \
                        and all(state == "up" for state in consumers):
                    return round(time.monotonic() - since, 2)
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        return None

    def _replaced(self, kind: str, count: int, pid: int, since: float) -> float | None:
        """Seconds until `count` processes of the kind run again without the killed one."""
        while time.monotonic() - since < 60:
            alive = [p for p in _of_kind(self.up_pid, kind) if p.pid != pid]
            if len(alive) >= count:
                return round(time.monotonic() - since, 2)
            time.sleep(0.1)
        return None
