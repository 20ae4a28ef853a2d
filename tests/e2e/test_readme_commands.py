"""Every command the README and the `fte up` banner show works as typed (issue 17 §5).

One real `fte up`; then every URL of its banner is fetched, and every ```bash block of the
README runs in bash from the repository root, as a reader would paste it. What differs from a
reader's shell: the stack's port replaces 8000 (this machine runs other stacks), DATABASE_URL
names the stack's database (a reader's `fte` finds it in `.fte/`), and the ticket placeholders
of the "Try it" block (`TKT-1000`, `tkt_...`) get the values the first command printed, as the
README says to. `make` lines are checked with `make -n` (running them is what `make test`
itself is). The Gmail watch needs a Google account: it is the one block not run.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import httpx

from production.local_stack import free_port
from tests.conftest import ROOT
from tests.e2e.fte_up import STRIP, database_url, interrupt, start_fte_up

BLOCK = re.compile(r"```bash\n(.*?)```", re.S)
NEEDS_AN_ACCOUNT = "fte gmail watch"


def readme_blocks() -> list[str]:
    return BLOCK.findall((ROOT / "README.md").read_text())


def json_answers(out: str) -> list[Any]:
    """Return every JSON value curl printed (one after another, without separators)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := _skip_space(out, at)) < len(out):
        if out[at] not in "{[":
            at = out.find("\n", at) + 1 or len(out)  # a line that is not JSON (CSV, a report)
            continue
        try:
            value, at = decoder.raw_decode(out, at)
        except json.JSONDecodeError:  # a report line that starts like JSON
            at = out.find("\n", at) + 1 or len(out)
            continue
        found.append(value)
    return found


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


async def run_bash(script: str, env: dict[str, str], *, timeout_s: float = 300) -> str:
    proc = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-c", script, cwd=ROOT, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    assert proc.returncode == 0, f"{script}\nexited {proc.returncode}:\n{err.decode()[-3000:]}"
    return out.decode()


def errors_in(answers: list[Any]) -> list[Any]:
    return [a for a in answers if isinstance(a, dict) and ("detail" in a or "errors" in a)]


async def _banner_urls_answer(banner: str) -> int:
    """GET every URL of the banner that has no placeholder; return how many answered 200."""
    urls = {url.rstrip(")\"'>") for url in re.findall(r"http://127\.0\.0\.1:\d+\S*", banner)}
    plain = sorted(u for u in urls if "<" not in u and not u.endswith("/support/form"))
    async with httpx.AsyncClient(timeout=10, follow_redirects=True) as http:
        for url in plain:
            res = await http.get(url)
            assert res.status_code == 200, f"{url}: {res.status_code} {res.text[:200]}"
    return len(plain)


async def test_every_readme_and_banner_command_works_as_typed() -> None:
    blocks = readme_blocks()
    assert len(blocks) >= 6
    with tempfile.TemporaryDirectory(prefix="fte-readme-") as tmp:
        os.chmod(tmp, 0o755)
        port = free_port()
        proc, banner = await start_fte_up(Path(tmp) / "data", port)
        try:
            # Support form, widget, console, health, sandbox, metrics, docs, Prometheus.
            assert await _banner_urls_answer(banner) >= 7
            env = {k: v for k, v in os.environ.items() if k not in STRIP}
            env.update(DATABASE_URL=database_url(banner), LOG_LEVEL="WARNING")
            ran = 0
            for block in blocks:
                script = block.replace("localhost:8000", f"localhost:{port}")
                if NEEDS_AN_ACCOUNT in block:
                    continue
                if block.lstrip().startswith("make "):
                    for target in re.findall(r"^make (\S+)", block, re.M):
                        await run_bash(f"make -n {target} > /dev/null", env)
                elif "TKT-1000" in block:
                    await _try_it(script, env)
                else:
                    out = await run_bash(script, env)
                    assert not errors_in(json_answers(out)), out[-2000:]
                    if "fte ask" in block:
                        replies = [a for a in json_answers(out) if "reply" in a]
                        assert len(replies) == block.count("fte ask") and all(
                            r["reply"] for r in replies)
                ran += 1
            assert ran == len(blocks) - 1
        finally:
            assert await interrupt(proc) == 0


async def _try_it(script: str, env: dict[str, str]) -> None:
    """The "Try it" block: the form's answer names the ticket and its token; with them filled
    in, the ticket opens and the lookup finds it (the form's submit replays: same key)."""
    first = json_answers(await run_bash(script, env))[0]
    ticket, token = first["ticket_id"], first["access_token"]
    filled = script.replace("TKT-1000", ticket).replace("tkt_...", token)
    answers = json_answers(await run_bash(filled, env))
    assert not errors_in(answers), answers
    assert [a["ticket_id"] for a in answers] == [ticket] * 3
