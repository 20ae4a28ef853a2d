"""Real processes, real faults: the database stopped under the API, and a worker SIGKILLed
mid-stream, once between replies and once with fifty agent runs in flight."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from production.config import Settings
from production.database.migrate import migrate
from production.database.pool import create_pool
from production.local_stack import EmbeddedPostgres, LocalBroker, free_port
from tests.conftest import (
    _serve_api,
    child_env,
    form,
    isolated_settings,
    make_settings,
    wait_for,
    wait_until_healthy,
)
from tests.fakes.openai_api import FakeOpenAI


async def test_database_stopped_gives_503_then_the_api_recovers_after_restart(
    broker: LocalBroker,
) -> None:
    with tempfile.TemporaryDirectory(prefix="fte-pg-down-") as tmp:
        os.chmod(tmp, 0o755)
        db = EmbeddedPostgres(Path(tmp) / "pgdata")
        await asyncio.to_thread(db.start)
        try:
            settings = make_settings(db, broker)
            # An API alone: no consumers to wait for (readiness here is the database's).
            settings.api.ready_requires_consumers = False
            await migrate(db.url)
            server, task = await _serve_api(settings, port := free_port())
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                assert (await http.post("/api/v1/support/form", json=form())).status_code == 201

                await asyncio.to_thread(db.stop)
                down = await http.post("/api/v1/support/form", json=form())
                assert down.status_code == 503
                assert "nothing was stored" in down.json()["detail"]
                health = await http.get("/api/v1/health")
                assert health.status_code == 503
                assert health.json()["components"]["database"] == "down"

                await asyncio.to_thread(db.start)

                async def accepted() -> bool:
                    res = await http.post("/api/v1/support/form", json=form())
                    return res.status_code == 201

                await wait_for(accepted, timeout_s=15, interval_s=0.2)
                assert (await http.get("/api/v1/health")).status_code == 200
            server.should_exit = True
            await task
            pool = await create_pool(settings, min_size=1, max_size=1)
            async with pool.acquire() as conn:
                # The submit that hit the outage left nothing behind: every ticket has its
                # message and its outbox event.
                tickets = await conn.fetchval("SELECT count(*) FROM tickets")
                orphans = await conn.fetchval(
                    "SELECT count(*) FROM tickets t WHERE NOT EXISTS "
                    "(SELECT 1 FROM messages m WHERE m.ticket_id = t.id)")
                events = await conn.fetchval("SELECT count(*) FROM outbox")
            await pool.close()
            assert orphans == 0
            assert events == tickets >= 2
        finally:
            db.stop()


async def test_a_process_started_before_its_database_and_broker_waits_for_both() -> None:
    """`fte relay` started first: it retries the database, then the broker, then starts."""
    with tempfile.TemporaryDirectory(prefix="fte-late-") as tmp:
        os.chmod(tmp, 0o755)
        db, late_broker = EmbeddedPostgres(Path(tmp) / "pgdata"), LocalBroker()  # not started
        env = child_env(make_settings(db, late_broker), LOG_LEVEL="INFO")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "production.cli", "relay", env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            await _logged(proc, '"dependency": "database"')
            await asyncio.to_thread(db.start)
            await _logged(proc, '"dependency": "kafka"')
            await asyncio.to_thread(late_broker.start)
            await _logged(proc, '"event": "process_started"')
            await _logged(proc, '"event": "relay_leader"')
        finally:
            if proc.returncode is None:
                proc.terminate()
            assert await asyncio.wait_for(proc.wait(), 15) == 0
            late_broker.stop()
            db.stop()


async def _logged(proc: asyncio.subprocess.Process, needle: str) -> str:
    """Return the next line the process logs that contains `needle`."""
    assert proc.stderr is not None
    while True:
        line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
        assert line, f"the process exited before logging {needle}"
        if needle in line:
            return line


def _start(cmd: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "production.cli", cmd], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _reply_counts(settings: Settings) -> list[int]:
    pool = await create_pool(settings, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                """
                SELECT count(r.id) AS replies FROM messages i
                LEFT JOIN messages r ON r.in_reply_to = i.id AND r.role = 'agent'
                WHERE i.tenant_id = 'techcorp' AND i.direction = 'inbound'
                GROUP BY i.id
                """)
        return [row["replies"] for row in rows]
    finally:
        await pool.close()


async def test_worker_sigkilled_mid_stream_then_restarted_replies_exactly_once_to_everything(
    postgres: EmbeddedPostgres, broker: LocalBroker
) -> None:
    settings = await isolated_settings(postgres, broker, "sigkill")
    port = free_port()
    env = child_env(settings, API_PORT=str(port))
    procs = {name: _start(name, env) for name in ("api", "relay", "dispatcher", "worker")}
    total = 80
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await wait_until_healthy(http)
            killed = False
            for i in range(total):
                res = await http.post("/api/v1/support/form", json=form())
                assert res.status_code == 201
                if i == total // 3:
                    # Wait until the worker is mid-stream, then kill it without warning.
                    await wait_for(lambda: _some_replied(settings), timeout_s=30)
                    procs["worker"].send_signal(signal.SIGKILL)
                    procs["worker"].wait()
                    killed = True
                if killed and i == total // 2:
                    procs["worker"] = _start("worker", env)
                await asyncio.sleep(0.02)

        await _each_answered_once(settings, total)
    finally:
        for proc in procs.values():
            _stop(proc)


async def _some_replied(settings: Settings) -> bool:
    return sum(await _reply_counts(settings)) > 0


async def _each_answered_once(settings: Settings, total: int) -> None:
    """Wait until all `total` inbound messages have a reply; then each must have exactly one."""
    async def all_answered() -> list[int] | None:
        counts = await _reply_counts(settings)
        return counts if len(counts) == total and all(c >= 1 for c in counts) else None

    counts = await wait_for(all_answered, timeout_s=60, interval_s=0.5)
    assert counts == [1] * total


async def test_worker_sigkilled_with_fifty_runs_in_flight_replies_exactly_once_after_restart(
    postgres: EmbeddedPostgres, broker: LocalBroker
) -> None:
    settings = await isolated_settings(postgres, broker, "inflight")
    total = 60
    async with FakeOpenAI() as model:
        port = free_port()
        # No dispatcher here: the API is ready without waiting for the consumers.
        env = child_env(settings, API_PORT=str(port), API_READY_REQUIRES_CONSUMERS="false",
                        OPENAI_API_KEY=model.api_key,
                        OPENAI_BASE_URL=model.base_url)
        model.hold()  # the model takes its time: every run waits for its first answer
        procs = {name: _start(name, env) for name in ("api", "relay", "worker")}
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                await wait_until_healthy(http)
                for _ in range(total):
                    assert (await http.post("/api/v1/support/form", json=form())).status_code == 201
            # Sixty customers, six partitions, one worker: the runs are in flight side by side.
            await wait_for(lambda: _held(model, 50), timeout_s=30, interval_s=0.1)
            procs["worker"].send_signal(signal.SIGKILL)
            procs["worker"].wait()
            assert sum(await _reply_counts(settings)) == 0
            model.release()
            procs["worker"] = _start("worker", env)
            await _each_answered_once(settings, total)
        finally:
            for proc in procs.values():
                _stop(proc)


async def _held(model: FakeOpenAI, count: int) -> bool:
    return model.waiting >= count
