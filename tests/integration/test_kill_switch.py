"""The runtime kill switch, flipped mid-stream through the admin API: every reply decided after
the flip is held for a person (zero deliveries), among them the replies to messages accepted
before it whose agent runs were still waiting on the model, and so is any reply released before
it that the dispatcher had not sent yet, with no restart; released, replies flow again, and a
held draft can be approved from the inbox. Real stack: API, worker, dispatcher, relay, with the
agent on the fake OpenAI API (tests/fakes/openai_api.py), which holds its answers on request."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import SecretStr

from production.config import OpenAISettings
from production.local_stack import EmbeddedPostgres, LocalBroker
from tests.conftest import Stack, form, wait_for
from tests.fakes.openai_api import FakeOpenAI
from tests.integration.stacks import admin_stack

# Runs of the stream that wait on the model when the switch is flipped.
IN_FLIGHT = 3


async def _reply(stack: Stack, ticket: str) -> Any:
    async def stored() -> Any:
        async with stack.pool.acquire() as conn:
            return await conn.fetchrow(
                "SELECT r.id, r.status, r.processed_at, r.created_at FROM messages r "
                "JOIN tickets t ON t.tenant_id = r.tenant_id AND t.id = r.ticket_id "
                "WHERE r.tenant_id = 'techcorp' AND t.ticket_number = $1 AND r.role = 'agent'",
                ticket)

    return await wait_for(stored, timeout_s=20)


async def _submit(stack: Stack, n: int) -> list[str]:
    tickets = []
    for _ in range(n):
        res = await stack.http.post("/api/v1/support/form", json=form())
        assert res.status_code == 201, res.text
        tickets.append(res.json()["ticket_id"])
    return tickets


async def test_the_kill_switch_halts_replies_mid_stream_and_releases_them(
    postgres: EmbeddedPostgres, broker: LocalBroker,
) -> None:
    async with FakeOpenAI() as model:
        on_model = OpenAISettings(api_key=SecretStr(model.api_key), base_url=model.base_url)
        async with admin_stack(postgres, broker, "killsw", openai=on_model) as (stack, auth):
            await _halt_mid_stream_and_release(stack, auth, model)


async def _halt_mid_stream_and_release(stack: Stack, auth: dict[str, str],
                                       model: FakeOpenAI) -> None:
    before = await _submit(stack, 3)
    for ticket in before:
        assert (await _reply(stack, ticket))["status"] in ("queued", "delivered")

    # Flip it while a stream of forms is arriving, with some of its agent runs waiting on the
    # model: their messages were accepted before the flip, their replies are decided after.
    model.hold()
    stream = asyncio.create_task(_submit(stack, 10))

    async def runs_waiting() -> bool:
        return model.waiting >= IN_FLIGHT

    await wait_for(runs_waiting, timeout_s=20)
    res = await stack.http.post("/api/v1/admin/kill-switch", headers=auth,
                                json={"engaged": True, "reason": "incident drill"})
    assert res.status_code == 200 and res.json()["engaged"] is True
    async with stack.pool.acquire() as conn:  # the flip has committed by now
        flipped_at = await conn.fetchval("SELECT clock_timestamp()")
    model.release()
    during = await stream
    after = await _submit(stack, 5)

    streamed = [await _reply(stack, t) for t in during]
    replies = streamed + [await _reply(stack, t) for t in after]
    # Every reply decided after the flip committed is held; none was sent. Among them, at
    # least the stream's runs that were waiting on the model at the flip.
    late = [r for r in replies if r["created_at"] > flipped_at]
    assert len([r for r in streamed if r["created_at"] > flipped_at]) >= IN_FLIGHT
    assert {r["status"] for r in late} == {"pending_approval"}
    async with stack.pool.acquire() as conn:
        sent_after = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE tenant_id = 'techcorp' AND message_id = "
            "ANY($1::uuid[])", [r["id"] for r in late])
        audit = await conn.fetch(
            "SELECT policy_clause FROM care_audit WHERE tenant_id = 'techcorp' AND message_id = "
            "ANY($1::uuid[])", [r["id"] for r in late])
        # Nor was any reply released before the flip sent after it (the dispatcher's last
        # look): no autonomous delivery began after the flip committed.
        sent_late = await conn.fetchval(
            "SELECT count(*) FROM deliveries d JOIN messages m "
            "ON m.tenant_id = d.tenant_id AND m.id = d.message_id "
            "WHERE d.tenant_id = 'techcorp' AND d.created_at > $1 "
            "AND NOT m.metadata ? 'approved_by'", flipped_at)
    assert sent_after == 0
    assert sent_late == 0
    assert {a["policy_clause"] for a in audit} == {"KILL.tenant"}

    # The held drafts wait in the inbox; one approved by a person is delivered.
    inbox = (await stack.http.get("/api/v1/admin/proposals", headers=auth,
                                  params={"status": "pending", "limit": 50})).json()
    held = {p["message_id"]: p for p in inbox["proposals"]}
    assert {str(r["id"]) for r in late} <= set(held)
    first = held[str(late[0]["id"])]
    assert first["decision"]["gate"]["clause"] == "KILL.tenant"
    res = await stack.http.post(f"/api/v1/admin/proposals/{first['id']}/approve", headers=auth,
                                json={})
    assert res.status_code == 200, res.text

    async def approved_sent() -> bool:
        async with stack.pool.acquire() as conn:
            return bool(await conn.fetchval(
                "SELECT status = 'delivered' FROM messages WHERE tenant_id = 'techcorp' "
                "AND id = $1", late[0]["id"]))

    assert await wait_for(approved_sent, timeout_s=20)

    # Released: the next reply goes out again, without any restart.
    res = await stack.http.post("/api/v1/admin/kill-switch", headers=auth,
                                json={"engaged": False, "reason": "drill over"})
    assert res.status_code == 200 and res.json()["engaged"] is False
    [ticket] = await _submit(stack, 1)

    async def delivered() -> bool:
        row = await _reply(stack, ticket)
        return bool(row["status"] == "delivered")

    assert await wait_for(delivered, timeout_s=20)
