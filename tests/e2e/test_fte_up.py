"""`fte up` as a newcomer runs it: the whole local stack from nothing, URLs printed, a form
answered, Ctrl-C stops every child, and a second `fte up` finds the same data."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from production.local_stack import free_port
from tests.conftest import ROOT, form, wait_for

STRIP = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "CARE_AUTONOMY_ENABLED", "CARE_SHADOW_MODE")


async def _start_up(data_dir: Path, port: int) -> tuple[asyncio.subprocess.Process, str]:
    env = {k: v for k, v in os.environ.items() if k not in STRIP}
    env["LOG_LEVEL"] = "WARNING"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "production.cli", "up", "--data-dir", str(data_dir),
        "--port", str(port), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    banner = ""
    while "Press Ctrl-C" not in banner:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line, f"fte up exited early: {banner}"
        banner += line.decode()
    return proc, banner


async def _interrupt(proc: asyncio.subprocess.Process) -> int:
    proc.send_signal(signal.SIGINT)
    return await asyncio.wait_for(proc.wait(), 60)


async def test_fte_up_runs_the_whole_stack_and_stops_cleanly() -> None:
    with tempfile.TemporaryDirectory(prefix="fte-up-") as tmp:
        os.chmod(tmp, 0o755)
        data_dir = Path(tmp) / "data"
        port = free_port()
        proc, banner = await _start_up(data_dir, port)
        try:
            assert f"http://127.0.0.1:{port}/api/v1/support/form" in banner
            assert f"http://127.0.0.1:{port}/api/v1/health" in banner
            assert "embedded PostgreSQL" in banner and "tansu" in banner
            assert "ON for the internal tenant 'techcorp' only" in banner
            assert "Knowledge base     16 sections (loaded now from context/)" in banner
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                async def healthy() -> bool:
                    try:
                        return (await http.get("/api/v1/health")).status_code == 200
                    except httpx.TransportError:
                        return False

                await wait_for(healthy, timeout_s=30, interval_s=0.2)
                ticket = (await http.post("/api/v1/support/form", json=form())).json()["ticket_id"]

                async def replied() -> bool:
                    view = (await http.get(f"/api/v1/tickets/{ticket}")).json()
                    return any(m["direction"] == "outbound" for m in view["messages"])

                await wait_for(replied, timeout_s=20)
                # Two API processes here: /metrics merges what each of them observed.
                metrics = (await http.get("/metrics")).text
                assert ('fte_http_request_duration_seconds_count{method="POST",'
                        'route="/api/v1/support/form",status="201"} 1.0') in metrics
        finally:
            code = await _interrupt(proc)
        assert code == 0
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(timeout=2) as http:
                await http.get(f"http://127.0.0.1:{port}/api/v1/health/live")

        port = free_port()
        proc, banner = await _start_up(data_dir, port)
        try:
            assert "Knowledge base     16 sections\n" in banner  # kept, not loaded again
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                async def found() -> bool:
                    try:
                        return (await http.get(f"/api/v1/tickets/{ticket}")).status_code == 200
                    except httpx.TransportError:
                        return False

                await wait_for(found, timeout_s=30, interval_s=0.2)
        finally:
            assert await _interrupt(proc) == 0
