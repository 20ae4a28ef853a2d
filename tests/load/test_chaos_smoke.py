"""Chaos, short (`make chaos` is the long one): the three-channel load on `fte up` with 2 API
processes, 2 workers and a dispatcher for 45 s while an API process and a worker are SIGKILLed
every 12-18 s (uvicorn and the supervisor restart them) and the broker once (memory storage:
every record it held is gone; the sweeper re-queues what was accepted and not processed, after
10 s here). Then the load's check: every accepted message answered once and delivered once, per
channel, and no identity in any log. The judge's own failures are shown by
tests/unit/test_load_check.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.load.run import run, verdict

pytestmark = pytest.mark.e2e


def test_forty_five_seconds_of_kills_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    result = run(users=20, spawn_rate=10, duration_s=45, out=tmp_path / "chaos", drain_s=90,
                 api_processes=2, workers=2, dispatchers=1, chaos=True, faults=("broker",),
                 kill_gap_s=(12, 18), sweeper_deadline_s=10)
    assert verdict(result, kills={"api": 2, "worker": 2, "broker": 1}) == [], result.channels
    assert result.logs_scanned["fte-up.log"] > 10_000  # the children's logs are in it
