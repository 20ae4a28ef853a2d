"""Chaos under the load: SIGKILL a random API process and a random worker process of a running
`fte up` every 20-40 s, and time how long until a replacement runs (uvicorn restarts its API
processes, the supervisor its children). What was lost or duplicated is the load's check.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from dataclasses import dataclass, field

import psutil


@dataclass(frozen=True)
class Kill:
    at_s: float  # since the chaos started
    kind: str  # "api" or "worker"
    pid: int
    replaced_after_s: float | None  # until as many of its kind run again; None: not seen


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


def _is(kind: str, cmdline: list[str], parent: list[str]) -> bool:
    if kind == "worker":
        return cmdline[-1:] == ["worker"] and "production.cli" in cmdline
    return "multiprocessing.spawn" in " ".join(cmdline) and parent[-1:] == ["api"]


@dataclass
class Chaos:
    up_pid: int
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
        while not self._stop.wait(random.uniform(self.min_gap_s, self.max_gap_s)):
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

    def _replaced(self, kind: str, count: int, pid: int, since: float) -> float | None:
        """Seconds until `count` processes of the kind run again without the killed one."""
        while time.monotonic() - since < 60:
            alive = [p for p in _of_kind(self.up_pid, kind) if p.pid != pid]
            if len(alive) >= count:
                return round(time.monotonic() - since, 2)
            time.sleep(0.1)
        return None
