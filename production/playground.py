"""The people-facing commands' plumbing: `fte kb load`, `fte ask`, `fte eval`, `fte replay`.

Each runs the real pipeline in-process against the configured database, or the embedded one
(joined when `fte up` already runs it, otherwise started for the command and stopped after).
"""

from __future__ import annotations

import contextlib
import json
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from production import bootstrap, clock, settings_env
from production.config import INTERNAL_TENANT, Settings
from production.database.migrate import migrate
from production.database.pool import create_pool
from production.database.queries import replay as replay_q
from production.embeddings import embedder_for
from production.local_stack import local_database
from production.services import evaluation, knowledge
from production.services import replay as replay_svc
from production.services.ask import Question, ask
from production.services.process_inbound import WorkerDeps

T = TypeVar("T")
CONTEXT = Path("context")


def run_local(settings: Settings, data_dir: Path,
              body: Callable[[Settings], Coroutine[Any, Any, T]]) -> T:
    """Return what `body` returns, run on the configured database or the embedded one."""
    import uvloop

    with local_database(settings, data_dir) as url:
        return uvloop.run(body(settings_env.with_database(settings, url)))


@contextlib.asynccontextmanager
async def _pipeline(settings: Settings) -> AsyncIterator[WorkerDeps]:
    """Migrate, open a pool, load the knowledge base if empty; yield the worker's deps."""
    await migrate(settings.database_url())
    pool = await create_pool(settings, min_size=1, max_size=4)
    try:
        deps = bootstrap.worker_deps(settings, pool)
        await knowledge.load_if_empty(pool=pool, tenant_id=INTERNAL_TENANT, folder=CONTEXT,
                                      embedder=deps.embedder)
        yield deps
    finally:
        await pool.close()


def kb_load(settings: Settings, data_dir: Path, path: Path, tenant_id: str) -> int:
    async def body(scoped: Settings) -> knowledge.LoadReport:
        await migrate(scoped.database_url())
        pool = await create_pool(scoped, min_size=1, max_size=2)
        try:
            return await knowledge.load_path(pool=pool, tenant_id=tenant_id, path=path,
                                             embedder=embedder_for(scoped))
        finally:
            await pool.close()

    report = run_local(settings, data_dir, body)
    print(f"{report.files} file(s), {report.sections} section(s): {report.embedded} embedded, "
          f"{report.sections - report.embedded} unchanged, {report.removed} removed")
    return 0


def ask_once(settings: Settings, data_dir: Path, question: Question) -> int:
    async def body(scoped: Settings) -> dict[str, object]:
        async with _pipeline(scoped) as deps:
            return await ask(deps, question, clock=clock.now)

    print(json.dumps(run_local(settings, data_dir, body), ensure_ascii=False))
    return 0


def run_eval(settings: Settings, data_dir: Path, path: Path, *, as_json: bool,
             check: bool) -> int:
    """Evaluate in a scratch database on the same server, dropped afterwards."""
    tickets = evaluation.load_tickets(path)

    async def body(scoped: Settings) -> evaluation.Report:
        async with _scratch_database(scoped) as scratch, _pipeline(scratch) as deps:
            return await evaluation.evaluate(deps, tickets, clock=clock.now)

    report = run_local(settings, data_dir, body)
    print(json.dumps(report.as_dict(), indent=2) if as_json else evaluation.render(report))
    if check and not report.meets_targets():
        print("evaluation targets not met", file=sys.stderr)
        return 1
    return 0


async def replay(*, settings: Settings, messages: Sequence[replay_svc.ReplayMessage],
                 extra_sections: Sequence[knowledge.Section] = (),
                 tenant_id: str = "techcorp") -> replay_svc.ReplayReport:
    """Replay `messages` in a scratch database on `settings`' server (the default knowledge
    base plus `extra_sections`), dropped afterwards: nothing is sent, the live database is
    only read."""
    async with _scratch_database(settings) as scratch, _pipeline(scratch) as deps:
        return await replay_svc.replay(deps, messages, clock=clock.now, tenant_id=tenant_id,
                                       extra_sections=extra_sections)


async def recorded_messages(*, settings: Settings, tenant_id: str, since: datetime | None,
                            tickets: Sequence[str],
                            limit: int = 1000) -> list[replay_svc.ReplayMessage]:
    """Return the recorded inbound messages of the configured database (read only)."""
    pool = await create_pool(settings, min_size=1, max_size=1)  # with the pool's JSON codecs
    try:
        async with pool.acquire() as conn:
            rows = await replay_q.recorded_inbound(conn, tenant_id, since=since,
                                                   tickets=tickets, limit=limit)
    finally:
        await pool.close()
    return [replay_svc.from_recorded(row) for row in rows]


def run_replay(settings: Settings, data_dir: Path, *, path: Path | None, since: datetime | None,
               tickets: Sequence[str], tenant_id: str, as_json: bool,
               allowed: Sequence[str] = ()) -> int:
    """`fte replay`: labelled tickets from `path` (exit 1 when an escalation is lost, other
    than the known misses `allowed`), or the database's recorded messages."""
    labelled = [replay_svc.from_labelled(t) for t in evaluation.load_tickets(path)
                if not tickets or t.id in tickets] if path else None

    async def body(scoped: Settings) -> replay_svc.ReplayReport:
        messages = labelled if labelled is not None else await recorded_messages(
            settings=scoped, tenant_id=tenant_id, since=since, tickets=tickets)
        return await replay(settings=scoped, messages=messages, tenant_id=tenant_id)

    report = run_local(settings, data_dir, body)
    print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) if as_json
          else replay_svc.render(report))
    lost = [r.message.id for r in report.lost_escalations() if r.message.id not in allowed]
    if path and lost:
        print("fte replay: escalation(s) lost: " + ", ".join(lost), file=sys.stderr)
        return 1
    return 0


@contextlib.asynccontextmanager
async def _scratch_database(settings: Settings) -> AsyncIterator[Settings]:
    url = urlsplit(settings.database_url())
    name = f"fte_eval_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(urlunsplit(url._replace(path="/postgres")))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield settings_env.with_database(settings, urlunsplit(url._replace(path=f"/{name}")))
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
