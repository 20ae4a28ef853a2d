"""Start and stop a real `fte up` for the whole-stack tests."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.conftest import ROOT

# Settings of the developer's shell that would point `fte up` away from its own stack.
STRIP = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "CARE_AUTONOMY_ENABLED", "CARE_SHADOW_MODE")


async def start_fte_up(data_dir: Path, port: int, **extra_env: str
                       ) -> tuple[asyncio.subprocess.Process, str]:
    """Start `fte up` and return the process once it printed its banner (and the banner)."""
    env = {k: v for k, v in os.environ.items() if k not in STRIP}
    env.update(LOG_LEVEL="WARNING", **extra_env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "production.cli", "up", "--data-dir", str(data_dir),
        "--port", str(port), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    banner = ""
    try:
        while "Press Ctrl-C" not in banner:
            # The banner waits until every consumer holds its partitions (a group join is ~5 s
            # on the local broker, after the children's start-up).
            line = await asyncio.wait_for(proc.stdout.readline(), 120)
            assert line, f"fte up exited early: {banner}"
            banner += line.decode()
    except BaseException:
        # A stack that never printed its banner is stopped, not left running for the next test.
        if proc.returncode is None:
            await interrupt(proc)
        raise
    return proc, banner


async def interrupt(proc: asyncio.subprocess.Process) -> int:
    """Ctrl-C `fte up` and return its exit code."""
    proc.send_signal(signal.SIGINT)
    return await asyncio.wait_for(proc.wait(), 60)


def database_url(banner: str) -> str:
    """The embedded database `fte up` announced."""
    where = banner.split("PostgreSQL 18 + pgvector at ")[1].split()[0]
    return f"postgresql://postgres@{where}"
