"""C.A.R.E. through the whole stack (API, worker, dispatcher, relay, scheduler) over real HTTP:
shadow mode over a stream writes the full audit and delivers nothing; an escalation halts
autonomy for the customer until a person closes it; quiet hours defer a reply, and it is sent
when they end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from production.config import CareSettings
from production.database.pool import Pool, create_pool
from production.local_stack import EmbeddedPostgres, LocalBroker
from tests.conftest import (
    Stack,
    as_customer,
    form,
    isolated_settings,
    running_stack,
    unique_email,
    wait_for,
)
from tests.kafka_waits import wait_until_handled


async def _agent_reply(pool: Pool, ticket: str, *, status: str | None = None) -> Any:
    """Wait for the agent's reply on the ticket (in that status, when given)."""
    async def stored() -> Any:
        async with pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT r.id, r.status, r.content, r.customer_id, r.delivered_at FROM messages r "
                "JOIN tickets t ON t.tenant_id = r.tenant_id AND t.id = r.ticket_id "
                "WHERE r.tenant_id = 'techcorp' AND t.ticket_number = $1 AND r.role = 'agent'",
                ticket)
        return row if row is not None and status in (None, row["status"]) else None

    return await wait_for(stored, timeout_s=30, interval_s=0.1)


async def _submit(stack: Stack, **fields: Any) -> str:
    res = await stack.http.post("/api/v1/support/form", json=form(**fields))
    assert res.status_code == 201, res.text
    ticket: str = res.json()["ticket_id"]
    return ticket


async def _visible_replies(stack: Stack, ticket: str) -> list[str]:
    view = (await as_customer(stack, ticket)).json()
    return [m["content"] for m in view["messages"] if m["direction"] == "outbound"]


async def test_shadow_mode_over_a_stream_audits_everything_and_delivers_nothing(
    postgres: EmbeddedPostgres, broker: LocalBroker
) -> None:
    settings = await isolated_settings(postgres, broker, "shadow")
    settings = settings.model_copy(update={"care": CareSettings(autonomy_enabled=True,
                                                                shadow_mode=True)})
    pool = await create_pool(settings, min_size=1, max_size=8)
    try:
        async with pool.acquire() as conn:  # everything but the ceiling says "act"
            await conn.execute("UPDATE care_settings SET autonomy_mode = 'autopilot', "
                               "hands_off_new_customers = true WHERE tenant_id = 'techcorp'")
        async with running_stack(settings, pool) as stack:
            emails = [unique_email("shadow") for _ in range(20)]
            tickets = await asyncio.gather(*(_submit(stack, email=e) for e in emails))
            replies = [await _agent_reply(pool, t) for t in tickets]
            # The worker group is past every form: whatever they released is in the outbox.
            await wait_until_handled(settings, topic=settings.kafka.topic_incoming,
                                     group=settings.kafka.worker_group, keys=emails, count=20)
            assert [await _visible_replies(stack, t) for t in tickets] == [[]] * 20
        async with pool.acquire() as conn:
            deliveries = await conn.fetchval("SELECT count(*) FROM deliveries")
            released = await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = $1",
                                           settings.kafka.topic_outgoing)
            audit = await conn.fetch(
                "SELECT event_type, policy_clause, customer_id, message_id, payload "
                "FROM care_audit WHERE tenant_id = 'techcorp' ORDER BY id")
            proposals = await conn.fetch("SELECT message_id, status FROM care_proposals")
    finally:
        await pool.close()
    assert {r["status"] for r in replies} == {"pending_approval"}
    assert (deliveries, released) == (0, 0)
    would = {a["message_id"]: a for a in audit if a["event_type"] == "would_execute_action"}
    assert set(would) == {r["id"] for r in replies}
    for reply in replies:  # what would have been sent, in full, and why it was not
        row = would[reply["id"]]
        assert row["policy_clause"] == "PR0.shadow_mode"
        assert row["payload"]["content"] == reply["content"]
        assert row["payload"]["decision"]["decision"] == "AUTO_EXECUTE"
    proposed = [a for a in audit if a["event_type"] == "proposed_state_change"]
    assert {a["customer_id"] for a in proposed} == {r["customer_id"] for r in replies}
    assert {(a["payload"]["to"], a["payload"]["applied"]) for a in proposed} == {
        ("engaged", False)}
    assert not [a for a in audit if a["event_type"] == "executed_action"
                and not str(a["policy_clause"]).startswith("ADMIN.")]
    assert {p["status"] for p in proposals} == {"pending"} and len(proposals) == 20


async def test_an_escalation_halts_autonomy_for_the_customer_until_a_person_closes_it(
    stack_with_key: tuple[Stack, dict[str, str]]
) -> None:
    stack, auth = stack_with_key
    email = unique_email("refund")
    refund = await _submit(stack, email=email, subject="Refund please",
                           message="I was charged twice this month and I want a refund.")
    held = await _agent_reply(stack.pool, refund)
    assert held["status"] == "pending_approval"
    customer = str(held["customer_id"])
    care = (await stack.http.get(f"/api/v1/admin/customers/{customer}/care",
                                 headers=auth)).json()
    assert care["escalation_status"] == "open" and care["hands_off"] is True

    # Answerable, and everything else allows autopilot: the open escalation still holds it.
    answerable = dict(email=email, subject="Password reset",
                      message="How do I reset my password? The reset email never arrives.")
    during = await _agent_reply(stack.pool, await _submit(stack, **answerable))
    assert during["status"] == "pending_approval"
    async with stack.pool.acquire() as conn:
        audit = await conn.fetch(
            "SELECT message_id, event_type, policy_clause FROM care_audit "
            "WHERE message_id = ANY($1) ORDER BY id", [held["id"], during["id"]])
    # A refund is the policy's "humans only" (blocked); the answer would have gone (held).
    assert [(a["message_id"], a["event_type"], a["policy_clause"]) for a in audit] == [
        (held["id"], "blocked_action", "PR3.escalation_open"),
        (during["id"], "would_execute_action", "PR3.escalation_open")]

    bad = await stack.http.post(f"/api/v1/admin/customers/{customer}/escalation/close",
                                headers=auth, json={"reason": "  "})
    assert bad.status_code == 422
    closed = await stack.http.post(f"/api/v1/admin/customers/{customer}/escalation/close",
                                   headers=auth, json={"reason": "refund handled by billing"})
    assert closed.status_code == 200 and closed.json()["escalation_status"] == "closed"
    again = await stack.http.post(f"/api/v1/admin/customers/{customer}/escalation/close",
                                  headers=auth, json={"reason": "twice"})
    assert again.status_code == 409

    after = await _submit(stack, **answerable)
    sent = await _agent_reply(stack.pool, after, status="delivered")
    assert await _visible_replies(stack, after) == [sent["content"]]
    assert (await _agent_reply(stack.pool, refund))["status"] == "pending_approval"


async def test_quiet_hours_defer_a_reply_and_it_is_sent_when_they_end(
    stack_with_key: tuple[Stack, dict[str, str]]
) -> None:
    stack, auth = stack_with_key
    now = datetime.now(UTC)
    end = now + timedelta(seconds=3)
    quiet = {"quiet_hours_start": (now - timedelta(hours=1)).strftime("%H:%M:%S"),
             "quiet_hours_end": end.strftime("%H:%M:%S")}
    res = await stack.http.put("/api/v1/admin/autonomy", headers=auth, json=quiet)
    assert res.status_code == 200, res.text
    try:
        ticket = await _submit(stack)
        deferred = await _agent_reply(stack.pool, ticket)
        assert deferred["status"] == "deferred"
        assert await _visible_replies(stack, ticket) == []
        sent = await _agent_reply(stack.pool, ticket, status="delivered")
    finally:
        await stack.http.put("/api/v1/admin/autonomy", headers=auth,
                             json={"quiet_hours_start": None, "quiet_hours_end": None})
    assert sent["delivered_at"] >= end.replace(microsecond=0)
    assert await _visible_replies(stack, ticket) == [sent["content"]]
    async with stack.pool.acquire() as conn:
        audit = await conn.fetch("SELECT event_type, policy_clause FROM care_audit "
                                 "WHERE message_id = $1 ORDER BY id", sent["id"])
    assert [(a["event_type"], a["policy_clause"]) for a in audit] == [
        ("would_execute_action", "PR10.quiet_hours"), ("executed_action", "PR7.all_gates")]
