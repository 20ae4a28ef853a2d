"""End to end over the real HTTP admin API and the real scheduler loop: a stalled-ticket firing
stored as the triggers' sweep stores it becomes a suggestion in the tenant's feed; a person
approves it and the follow-up task exists with its audit row and diff. Another tenant's key sees
nothing (404), bad input is a 4xx that writes nothing, and a decision is taken once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx

from production.config import Settings
from production.database.pool import Pool
from production.services import admin_keys
from production.services.scheduler import run_scheduler
from tests.conftest import api_alone
from tests.integration.care_world import acting_tenant, care_db
from tests.integration.suggestion_world import (
    audit_of,
    customer_with_ticket,
    fire,
    tasks_of,
)

db = care_db("suggestions_api")
FEED_WAIT_S = 20


@contextlib.asynccontextmanager
async def scheduler(pool: Pool, settings: Settings) -> AsyncIterator[None]:
    stopping = asyncio.Event()
    fast = settings.model_copy(update={"suggestions": settings.suggestions.model_copy(
        update={"interval_s": 0.2})})
    task = asyncio.create_task(run_scheduler(pool=pool, settings=fast, stopping=stopping))
    try:
        yield
    finally:
        stopping.set()
        await asyncio.wait_for(task, 10)


async def feed_once_it_shows(http: httpx.AsyncClient, auth: dict[str, str]) -> list[Any]:
    """The feed, polled until the scheduler's pass has put a suggestion in it."""
    async with asyncio.timeout(FEED_WAIT_S):
        while True:
            answer = await http.get("/api/v1/admin/suggestions", headers=auth)
            assert answer.status_code == 200, answer.text
            if found := answer.json()["suggestions"]:
                return list(found)
            await asyncio.sleep(0.1)


async def key(pool: Pool, tenant: str) -> dict[str, str]:
    _, secret = await admin_keys.create_key(pool=pool, tenant_id=tenant, role="operator",
                                            name="ada")
    return {"Authorization": f"Bearer {secret}"}


async def test_from_a_stalled_ticket_to_an_approved_follow_up_over_http(
        db: tuple[Settings, Pool], now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="assist")
    stranger, _ = await acting_tenant(pool, settings, mode="assist")
    who = await customer_with_ticket(pool, tenant, priority="high")
    auth, other = await key(pool, tenant), await key(pool, stranger)
    firing = await fire(pool, who, now=now, priority="high")

    async with api_alone(acting) as http, scheduler(pool, acting):
        [shown] = await feed_once_it_shows(http, auth)
        assert (shown["firing_id"], shown["trigger"], shown["action"]) == (
            str(firing), "stalled_ticket", "follow_up_task")
        assert who.ticket_number in shown["title"] and shown["reason"].startswith("first")
        assert shown["score"] == round(shown["confidence"] * shown["urgency"], 4)
        assert shown["ranking"]["urgency"] == 0.85  # high priority
        assert shown["facts"]["ticket_number"] == who.ticket_number
        assert shown["preview"][0]["target"] == "task"
        assert shown["policy"]["gate"]["clause"] == "AAP1.mode.assist"
        path = f"/api/v1/admin/suggestions/{shown['id']}"

        # Another tenant's key: the suggestion does not exist for it.
        assert (await http.get("/api/v1/admin/suggestions", headers=other)).json()[
            "suggestions"] == []
        for answer in (await http.get(path, headers=other),
                       await http.post(f"{path}/approve", headers=other),
                       await http.post(f"{path}/dismiss", headers=other,
                                       json={"reason": "not mine"})):
            assert answer.status_code == 404, answer.text
        assert (await http.get(path)).status_code == 401
        assert (await http.get("/api/v1/admin/suggestions/not-a-uuid",
                               headers=auth)).status_code == 404
        # Bad input: a 4xx that says why, and nothing written.
        blank = await http.post(f"{path}/dismiss", headers=auth, json={"reason": "  "})
        assert blank.status_code == 422 and "reason" in blank.text
        assert (await http.post(f"{path}/snooze", headers=auth,
                                json={"hours": 0})).status_code == 422
        wrong = await http.post(f"{path}/edit", headers=auth, json={"priority": "high"})
        assert wrong.status_code == 422 and "priority" in wrong.text
        assert (await http.get(path, headers=auth)).json()["status"] == "pending"

        approved = await http.post(f"{path}/approve", headers=auth)
        assert approved.status_code == 200, approved.text
        assert approved.json()["decided_by"] == "operator:ada"
        assert approved.json()["outcome"] == "EXECUTION_SUCCEEDED"
        again = await http.post(f"{path}/approve", headers=auth)
        assert again.status_code == 409 and "already executed" in again.text
        after = (await http.get(path, headers=auth)).json()
        assert after["status"] == "executed" and after["result"]["task_id"]
        assert (await http.get("/api/v1/admin/suggestions", headers=auth)).json()[
            "suggestions"] == []

    [task] = await tasks_of(pool, tenant)
    assert task["kind"] == "follow_up_task" and task["created_by"] == "operator:ada"
    assert who.ticket_number in task["title"]
    [executed] = [a for a in await audit_of(pool, tenant) if a["event_type"] == "executed_action"]
    assert (executed["actor"], executed["policy_clause"]) == ("operator:ada",
                                                              "SUGGESTION.approved")
    assert executed["customer_id"] == who.customer_id
    assert executed["payload"]["suggestion_id"] == shown["id"]
    assert executed["payload"]["result"]["task_id"] == after["result"]["task_id"]
    assert [d["after"] for d in executed["payload"]["diff"]] == [task["title"], task["body"]]
    assert await tasks_of(pool, stranger) == []
