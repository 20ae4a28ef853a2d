"""`fte up` as a newcomer runs it: the whole local stack from nothing, URLs printed, a form
answered, Ctrl-C stops every child, and a second `fte up` finds the same data."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import tempfile
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from pydantic import SecretStr

from production.config import Settings
from production.database.pool import Pool, create_pool
from production.domain.messages import InboundMessage
from production.local_stack import free_port
from production.services import intake
from production.services.knowledge import chunk_markdown
from tests.conftest import ROOT, form, read_ticket, status_link, wait_for, wait_until_healthy
from tests.e2e.fte_up import database_url, interrupt, start_fte_up


async def create_pool_for(url: str) -> Pool:
    settings = Settings()
    settings.database.url = SecretStr(url)
    return await create_pool(settings, min_size=1, max_size=1)


async def test_fte_up_runs_the_whole_stack_and_stops_cleanly() -> None:
    with tempfile.TemporaryDirectory(prefix="fte-up-") as tmp:
        os.chmod(tmp, 0o755)
        data_dir = Path(tmp) / "data"
        port = free_port()
        proc, banner = await start_fte_up(data_dir, port)
        try:
            assert f"http://127.0.0.1:{port}/api/v1/support/form" in banner
            assert f"http://127.0.0.1:{port}/api/v1/health" in banner
            assert "embedded PostgreSQL" in banner and "tansu" in banner
            assert "ON for the internal tenant 'techcorp' only (local demo opt-in: mode " \
                   "autopilot, new customers hands-off" in banner
            assert f"http://127.0.0.1:{port}/support" in banner
            assert f"http://127.0.0.1:{port}/console" in banner
            assert f'<script src="http://127.0.0.1:{port}/widget.js">' in banner
            sections = len(chunk_markdown((ROOT / "context" / "product-docs.md").read_text()))
            assert f"Knowledge base     {sections} sections (loaded now from context/)" in banner
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                # Up means up: at the banner every consumer already holds its partitions.
                health = await http.get("/api/v1/health")
                assert health.status_code == 200, health.text
                assert set(health.json()["components"]["consumers"].values()) == {"up"}
                # The queue drainers run below the API's CPU priority.
                supervisor = psutil.Process(proc.pid)
                assert {command: psutil.Process(pid).nice() - supervisor.nice()
                        for pid, command in _running_children(supervisor).items()} == {
                    "api": 0, "worker": 10, "dispatcher": 5, "relay": 0, "scheduler": 0}
                opened = (await http.post("/api/v1/support/form", json=form())).json()
                ticket, token = opened["ticket_id"], opened["access_token"]

                async def replied() -> bool:
                    view = (await read_ticket(http, ticket, token)).json()
                    return any(m["direction"] == "outbound" for m in view["messages"])

                await wait_for(replied, timeout_s=20)
                # Two API processes here: /metrics merges what each of them observed.
                metrics = (await http.get("/metrics")).text
                assert ('fte_http_request_duration_seconds_count{method="POST",'
                        'route="/api/v1/support/form",status="201"} 1.0') in metrics
                await _sandboxed_email_is_shown(proc, banner, http)
                await _the_console_link_signs_in_once(banner, http)
            prometheus = await _prometheus_scrapes_every_child(banner, psutil.Process(proc.pid))
        finally:
            code = await interrupt(proc)
        assert code == 0
        assert not prometheus.is_running()  # it stops with the stack
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(timeout=2) as http:
                await http.get(f"http://127.0.0.1:{port}/api/v1/health/live")

        port = free_port()
        proc, banner = await start_fte_up(data_dir, port, FTE_UP_WORKERS="2",
                                       FTE_UP_DISPATCHERS="2",
                                       FTE_UP_PROMETHEUS_BIN=str(data_dir / "no-prometheus"))
        try:
            assert f"Knowledge base     {sections} sections\n" in banner  # kept, not loaded again
            assert "Prometheus         not installed (" in banner
            await _each_child_restarts_on_its_own(psutil.Process(proc.pid))
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                async def found() -> bool:
                    try:
                        # The same token: derived again from the same secret and nonce.
                        return (await read_ticket(http, ticket, token)).status_code == 200
                    except httpx.TransportError:
                        return False

                await wait_for(found, timeout_s=30, interval_s=0.2)
        finally:
            assert await interrupt(proc) == 0


async def _the_console_link_signs_in_once(banner: str, http: httpx.AsyncClient) -> None:
    """The banner's console link carries a one-time token that signs the local operator in."""
    [token] = re.findall(r"/console#token=([A-Za-z0-9_-]+)", banner)
    first = await http.post("/api/v1/console/local-sign-in", json={"token": token})
    assert first.status_code == 200, first.text
    assert (first.json()["tenant_id"], first.json()["role"]) == ("techcorp", "admin")
    who = await http.get("/api/v1/admin/whoami",
                         headers={"Authorization": f"Bearer {first.json()['key']}"})
    assert who.status_code == 200 and who.json()["tenant_id"] == "techcorp"
    again = await http.post("/api/v1/console/local-sign-in", json={"token": token})
    assert again.status_code == 401 and "used already" in again.text


async def _prometheus_scrapes_every_child(banner: str,
                                          supervisor: psutil.Process) -> psutil.Process:
    """Prometheus (Debian's, which `make run` installs) scrapes each child; return its
    process (a child of `fte up`)."""
    [url] = re.findall(r"Prometheus         (http://127\.0\.0\.1:\d+)", banner)
    async with httpx.AsyncClient(base_url=url, timeout=5) as prom:
        async def all_up() -> list[str] | None:
            targets = (await prom.get("/api/v1/targets")).json()["data"]["activeTargets"]
            processes = sorted(t["labels"]["process"] for t in targets if t["health"] == "up")
            return processes if len(processes) == len(targets) else None

        assert await wait_for(all_up, timeout_s=30, interval_s=0.5) == [
            "api", "dispatcher", "relay", "scheduler", "worker"]
        # The repository's rules (monitoring/prometheus/fte.rules.yml) are loaded.
        assert "rules monitoring/prometheus/fte.rules.yml)" in banner
        groups = (await prom.get("/api/v1/rules")).json()["data"]["groups"]
        assert groups and all(group["file"].endswith("fte.rules.yml") for group in groups)
    [server] = [child for child in supervisor.children() if child.name() == "prometheus"]
    return server


def _running_children(supervisor: psutil.Process) -> dict[int, str]:
    """Return the `fte` command of each child process of `fte up` that runs (not the
    database's or the broker's, nor one that just died)."""
    found: dict[int, str] = {}
    for child in supervisor.children():
        with contextlib.suppress(psutil.Error):  # it exited meanwhile
            argv = child.cmdline()
            if "production.cli" in argv and child.status() != psutil.STATUS_ZOMBIE:
                found[child.pid] = argv[-1]
    return found


async def _each_child_restarts_on_its_own(supervisor: psutil.Process) -> None:
    """With FTE_UP_WORKERS=2 and FTE_UP_DISPATCHERS=2: a killed worker is replaced, and the
    other children keep running."""
    before = _running_children(supervisor)
    assert sorted(before.values()) == ["api", "dispatcher", "dispatcher", "relay", "scheduler",
                                       "worker", "worker"]
    killed = next(pid for pid, command in before.items() if command == "worker")
    psutil.Process(killed).kill()

    async def replaced() -> dict[int, str] | None:
        now = _running_children(supervisor)
        return now if sorted(now.values()) == sorted(before.values()) \
            and killed not in now else None

    after = await wait_for(replaced, timeout_s=30, interval_s=0.2)
    assert set(before) - set(after) == {killed}  # every other child is the one it was


async def _sandboxed_email_is_shown(proc: asyncio.subprocess.Process, banner: str,
                                    http: httpx.AsyncClient) -> None:
    """Without Gmail credentials an email reply is recorded, printed by `fte up` and listed."""
    assert "/api/v1/sandbox/messages" in banner
    address = f"sandbox.{os.getpid()}@example.com"
    message = InboundMessage(tenant_id="techcorp", channel="email", external_id=f"e2e-{address}",
                             content="Hello, how do I enable two-factor authentication?",
                             subject="2FA", sender_name="Mary Jackson", sender_email=address)
    db = await create_pool_for(database_url(banner))
    try:
        await intake.accept_inbound(pool=db, msg=message, topic="fte.tickets.incoming")
    finally:
        await db.close()
    assert proc.stdout is not None
    printed = ""
    while f"[sandbox] Email to {address}" not in printed:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line, "fte up exited"
        printed += line.decode()
    listed = (await http.get("/api/v1/sandbox/messages", params={"channel": "email"})).json()
    [entry] = [m for m in listed["messages"] if m["recipient"] == address]
    assert entry["body"].startswith("Dear Mary") and entry["subject"]
    # The reply's link opens its ticket: printed by `fte up`, and listed.
    ticket, token = status_link(entry["body"])
    base = str(http.base_url).rstrip("/")
    assert f"{base}/support/tickets/{ticket}#token={token}" in printed + await _rest_of_block(proc)
    view = (await read_ticket(http, ticket, token)).json()
    assert view["channel"] == "email" and view["messages"][0]["content"] == message.content


async def _rest_of_block(proc: asyncio.subprocess.Process) -> str:
    """Return the lines `fte up` prints up to the end of the sandbox block being printed."""
    assert proc.stdout is not None
    rest = ""
    while "#token=" not in rest:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line, "fte up exited"
        rest += line.decode()
    return rest


async def test_fte_up_revives_a_killed_broker_and_no_accepted_message_is_lost() -> None:
    """The local broker keeps everything in memory: killing it loses every topic and event.
    `fte up` restarts it, recreates the topics, and the sweeper re-queues what was lost."""
    with tempfile.TemporaryDirectory(prefix="fte-up-broker-") as tmp:
        os.chmod(tmp, 0o755)
        port = free_port()
        proc, banner = await start_fte_up(Path(tmp) / "data", port, FTE_SWEEPER_DEADLINE_S="3",
                                       FTE_SWEEPER_INTERVAL_S="0.5")
        broker_port = banner.split("tansu broker (memory) at 127.0.0.1:")[1].split()[0]
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                await wait_until_healthy(http)
                worker = next(p for p in psutil.Process(proc.pid).children()
                              if "worker" in p.cmdline())
                worker.suspend()
                # Accepted and relayed to the broker, but not yet consumed ...
                tickets = [(await http.post("/api/v1/support/form", json=form())).json()
                           for _ in range(3)]
                dsn = database_url(banner)
                await wait_for(lambda: _all_relayed(dsn), timeout_s=10)
                # ... when the broker dies with everything it held.
                subprocess.run(["pkill", "-KILL", "-f", f"tcp://127.0.0.1:{broker_port}"],
                               check=True)
                worker.resume()
                # Accepted while the broker is dead or empty: the outbox carries these.
                tickets += [(await http.post("/api/v1/support/form", json=form())).json()
                            for _ in range(2)]

                async def all_replied() -> bool:
                    for ticket in tickets:
                        view = (await read_ticket(http, ticket["ticket_id"],
                                                  ticket["access_token"])).json()
                        if not any(m["direction"] == "outbound" for m in view["messages"]):
                            return False
                    return True

                await wait_for(all_replied, timeout_s=60, interval_s=0.5)
                conn = await asyncpg.connect(dsn)
                try:
                    swept = await conn.fetchval(
                        "SELECT count(*) FROM messages WHERE last_published_at IS NOT NULL")
                finally:
                    await conn.close()
                assert swept >= 3  # the three the broker lost came back through the sweeper
        finally:
            assert await interrupt(proc) == 0


async def _all_relayed(dsn: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        pending = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return bool(pending == 0)
    finally:
        await conn.close()
