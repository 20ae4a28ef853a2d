"""The browser tests: Playwright drives Debian's Chromium through the support form, the widget
embedded in another site's page and the operator console, against a real `fte up` (the
suite is web-form/e2e/; `make test` installs Chromium and builds the web app first)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from production.local_stack import free_port
from tests.conftest import ROOT
from tests.e2e.fte_up import STRIP, database_url, interrupt, start_fte_up

WEB = ROOT / "web-form"
PLAYWRIGHT = WEB / "node_modules" / ".bin" / "playwright"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SUITE_TIMEOUT_S = 900


def _missing() -> list[str]:
    """What the suite needs and this machine lacks (`make test` provides all of it)."""
    needs = {
        CHROMIUM: "Chromium (apt-get install -y chromium)",
        PLAYWRIGHT: "the npm dependencies (cd web-form && npm ci)",
        WEB / "dist" / "support.html": "the built web app (cd web-form && npm run build)",
    }
    return [why for path, why in needs.items() if not path.exists()]


async def _create_key(banner: str) -> str:
    """An admin key of the demo tenant, made the way an operator makes one."""
    env = {k: v for k, v in os.environ.items() if k not in STRIP}
    env.update(DATABASE_URL=database_url(banner), LOG_LEVEL="WARNING")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "production.cli", "admin", "create-key", "--tenant", "techcorp",
        "--role", "admin", "--name", "e2e", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    key: str = json.loads(out)["key"]
    return key


def console_link(banner: str) -> str:
    """The one-click sign-in link of the banner's console line."""
    [link] = re.findall(r"Operator console   (http://\S+/console#token=\S+)", banner)
    return link


async def _playwright(base_url: str, key: str, link: str, database: str) -> tuple[int, str]:
    # DATABASE_URL and FTE_PYTHON: the suggestions spec stores a trigger firing as the
    # triggers' sweep does (tests/e2e/seed_firing.py).
    env = dict(os.environ, BASE_URL=base_url, FTE_ADMIN_KEY=key, FTE_CONSOLE_LINK=link,
               CHROMIUM=str(CHROMIUM), CI="1", FORCE_COLOR="0", DATABASE_URL=database,
               FTE_PYTHON=sys.executable)
    proc = await asyncio.create_subprocess_exec(
        # PLAYWRIGHT_SPECS: only these spec files (e.g. e2e/suggestions.spec.js), else all.
        str(PLAYWRIGHT), "test", *os.environ.get("PLAYWRIGHT_SPECS", "").split(), cwd=WEB,
        env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), SUITE_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    return proc.returncode if proc.returncode is not None else -1, out.decode()


async def test_the_playwright_suite_passes_against_a_running_stack() -> None:
    if missing := _missing():
        pytest.fail("the browser tests need " + ", ".join(missing) + " (`make test` installs "
                    "and builds them)")
    shutil.rmtree(WEB / "test-results", ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="fte-browser-") as tmp:
        os.chmod(tmp, 0o755)
        port = free_port()
        # The threshold checks run every 2 s here, so the Health test sees the alert its
        # escalations raise; 3 messages make a rate.
        proc, banner = await start_fte_up(Path(tmp) / "data", port,
                                          FTE_SCHEDULER_ALERT_INTERVAL_S="2",
                                          FTE_SCHEDULER_ALERT_MIN_MESSAGES="3",
                                          FTE_SUGGESTIONS_INTERVAL_S="1",
                                          FTE_PROACTIVE_SIGNAL_INTERVAL_S="1")
        try:
            code, output = await _playwright(f"http://127.0.0.1:{port}", await _create_key(banner),
                                             console_link(banner), database_url(banner))
        finally:
            assert await interrupt(proc) == 0
    print(output)
    assert code == 0, f"Playwright failed (screenshots, traces: web-form/test-results):\n{output}"
    assert " passed" in output and " failed" not in output
