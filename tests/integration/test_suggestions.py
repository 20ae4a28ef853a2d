"""The suggestion pipeline and a person's decisions, against the real PostgreSQL and the real
executor: from a stored firing to a suggestion (or to the rule that held it), the cost gate's
three answers, autopilot running internal actions, a person approving, editing, dismissing and
snoozing, and the OpenAI proposer against the local fake of the API."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from production.care.suggestion_executor import SuggestionConflict, SuggestionNotFound
from production.config import OpenAISettings, Settings
from production.database.pool import Pool
from production.domain import errors
from production.domain.proactive.cost import CostDecision
from production.services.suggestions import pipeline, review
from tests.fakes.openai_api import FakeOpenAI, message, scripted
from tests.integration.care_world import acting_tenant, care_db, set_care
from tests.integration.suggestion_world import (
    audit_of,
    customer_with_ticket,
    fire,
    firing_row,
    gate_of,
    run,
    sent_to,
    suggestions_of,
    tasks_of,
)

db = care_db("suggestions")
DAY = timedelta(days=1)


async def test_autopilot_runs_the_follow_up_a_stalled_ticket_proposes(
        db: tuple[Settings, Pool], now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="autopilot")
    who = await customer_with_ticket(pool, tenant)
    firing = await fire(pool, who, now=now)
    assert await run(pool, acting, now=now) == {"executed": 1}
    [row] = await suggestions_of(pool, tenant)
    assert (row["status"], row["action"], row["decided_by"], row["outcome"]) == (
        "executed", "follow_up_task", "fte-agent", "EXECUTION_SUCCEEDED")
    assert row["firing_id"] == firing and row["facts"]["sla_event"] == "first_response"
    [task] = await tasks_of(pool, tenant)
    assert task["kind"] == "follow_up_task" and who.ticket_number in task["title"]
    [audit] = await audit_of(pool, tenant)
    assert (audit["event_type"], audit["policy_clause"]) == ("executed_action", "PR7.all_gates")
    assert audit["payload"]["suggestion_id"] == str(row["id"]) and audit["payload"]["diff"]
    assert (await firing_row(pool, tenant, firing))["decision"] == "suggested"
    assert await run(pool, acting, now=now) == {}  # decided once


async def test_in_assist_mode_it_waits_in_the_feed_ranked(db: tuple[Settings, Pool],
                                                          now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="assist")
    calm = await customer_with_ticket(pool, tenant, priority="low")
    urgent = await customer_with_ticket(pool, tenant, priority="urgent")
    await fire(pool, calm, now=now, facts={"ticket_id": str(calm.ticket_id), "priority": "low"})
    await fire(pool, urgent, now=now, facts={"ticket_id": str(urgent.ticket_id),
                                             "priority": "urgent"})
    assert await run(pool, acting, now=now) == {"suggested": 2}
    feed = await review.feed(pool=pool, tenant_id=tenant, now=now, limit=10)
    assert [s["customer_id"] for s in feed] == [urgent.customer_id, calm.customer_id]
    assert feed[0]["score"] > feed[1]["score"]
    assert feed[0]["ranking"]["urgency_from"] == "trigger"
    assert feed[0]["policy"]["gate"]["clause"] == "AAP1.mode.assist"
    assert await tasks_of(pool, tenant) == []
    assert {a["event_type"] for a in await audit_of(pool, tenant)} == {"would_execute_action"}


async def test_one_a_day_per_customer_even_from_two_schedulers_at_once(
        db: tuple[Settings, Pool], now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="assist")
    who = await customer_with_ticket(pool, tenant)
    firings = [await fire(pool, who, now=now, event=e)
               for e in ("first_response", "next_response", "resolution")]
    passes = await asyncio.gather(*(run(pool, acting, now=now) for _ in range(3)))
    total: dict[str, int] = {}
    for outcome in passes:
        for key, n in outcome.items():
            total[key] = total.get(key, 0) + n
    assert total.get("suggested") == 1 and sum(total.values()) == 3
    assert len(await suggestions_of(pool, tenant)) == 1
    decisions = [(await firing_row(pool, tenant, f))["decision"] for f in firings]
    assert sorted(decisions) == ["suggested", "suppressed", "suppressed"]
    # The next local day, the customer may get one again (the pending one holds the trigger).
    other = await fire(pool, who, now=now + DAY, trigger="sentiment_falling", facts={})
    assert await run(pool, acting, now=now + DAY) == {"suggested": 1}
    assert (await firing_row(pool, tenant, other))["decision"] == "suggested"


async def test_the_cost_gate_defers_and_skips_before_any_proposal(
        db: tuple[Settings, Pool], now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="assist")
    who = await customer_with_ticket(pool, tenant)
    firing = await fire(pool, who, now=now)
    asked: list[dict[str, Any]] = []
    deferring = gate_of(CostDecision.DEFER, retry_in=timedelta(hours=2), seen=asked)
    assert await run(pool, acting, now=now, gate=deferring) == {"deferred": 1}
    assert asked == [{"tenant_id": tenant, "customer_id": who.customer_id,
                      "trigger": "stalled_ticket", "estimated_tokens": 0}]
    row = await firing_row(pool, tenant, firing)
    assert (row["decision"], row["retry_at"]) == ("deferred", now + timedelta(hours=2))
    assert await run(pool, acting, now=now + timedelta(hours=1)) == {}  # not yet
    skipping = gate_of(CostDecision.SKIP)
    assert await run(pool, acting, now=now + timedelta(hours=2), gate=skipping) == {"skipped": 1}
    assert (await firing_row(pool, tenant, firing))["decision"] == "skipped"
    assert await suggestions_of(pool, tenant) == []


async def test_without_the_real_gate_no_model_is_called(db: tuple[Settings, Pool],
                                                        now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="assist")
    who = await customer_with_ticket(pool, tenant)
    await fire(pool, who, now=now)
    async with FakeOpenAI() as fake:
        proposer = _openai(acting, fake)
        assert await run(pool, acting, now=now, gate=pipeline.allow_without_model,
                         proposer=proposer) == {"deferred": 1}
        assert fake.bodies() == []
    # Closed, so that no later pass of this module's database reopens it.
    assert await run(pool, acting, now=now + timedelta(hours=1),
                     gate=gate_of(CostDecision.SKIP)) == {"skipped": 1}


def _openai(settings: Settings, fake: FakeOpenAI) -> pipeline.Proposer:
    configured = settings.model_copy(update={"openai": OpenAISettings(
        api_key=fake.api_key, base_url=fake.base_url)})
    return pipeline.proposer_of(configured)


async def test_openai_words_the_suggestion_when_the_gate_allows(db: tuple[Settings, Pool],
                                                                now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="assist")
    who, broken = (await customer_with_ticket(pool, tenant),
                   await customer_with_ticket(pool, tenant))
    await fire(pool, who, now=now)
    answer = ('{"action": "follow_up_task", "title": "Call Grace about the export", '
              '"body": "Phone her today and fix the CSV export.", '
              '"reason": "The first response is two hours late.", "confidence": 0.95}')
    async with FakeOpenAI(policy=scripted([message(answer)], [message("not json")])) as fake:
        proposer = _openai(acting, fake)
        assert await run(pool, acting, now=now, proposer=proposer) == {"suggested": 1}
        [body] = fake.bodies()
        assert body["text"]["format"]["type"] == "json_schema"
        assert who.ticket_number in body["input"]
        await fire(pool, broken, now=now)  # the model answers nonsense: the local proposal
        assert await run(pool, acting, now=now, proposer=proposer) == {"suggested": 1}
    by_customer = {s["customer_id"]: s for s in await suggestions_of(pool, tenant)}
    first, second = by_customer[who.customer_id], by_customer[broken.customer_id]
    assert (first["title"], first["proposer"], first["confidence"]) == (
        "Call Grace about the export", "openai:gpt-4o-mini", pytest.approx(0.95))
    assert first["params"]["ticket_id"] == str(who.ticket_id)  # ids from the facts
    assert second["proposer"] == "local" and broken.ticket_number in second["title"]


async def test_a_person_approves_edits_dismisses_and_snoozes(db: tuple[Settings, Pool],
                                                             now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="assist")
    people = [await customer_with_ticket(pool, tenant) for _ in range(4)]
    for who in people[:3]:
        await fire(pool, who, now=now)
    await fire(pool, people[3], now=now, event="resolution")
    await run(pool, acting, now=now)
    by_customer = {s["customer_id"]: s["id"] for s in await suggestions_of(pool, tenant)}
    approve, edit, dismiss, ticket = (by_customer[p.customer_id] for p in people)

    done = await review.approve(pool=pool, settings=acting, tenant_id=tenant,
                                suggestion_id=approve, operator="ada", now=now)
    assert (done.status, done.outcome, done.decided_by) == (
        "executed", "EXECUTION_SUCCEEDED", "operator:ada")
    with pytest.raises(SuggestionConflict):
        await review.approve(pool=pool, settings=acting, tenant_id=tenant,
                             suggestion_id=approve, operator="ada", now=now)
    with pytest.raises(errors.Invalid):  # a task has no priority to change
        await review.approve(pool=pool, settings=acting, tenant_id=tenant, suggestion_id=edit,
                             operator="ada", now=now, edits=review.Edits(priority="high"))
    edited = await review.approve(pool=pool, settings=acting, tenant_id=tenant,
                                  suggestion_id=edit, operator="ada", now=now,
                                  edits=review.Edits(title="Call them today"))
    assert edited.outcome == "IDEA_EDITED"
    assert {t["title"] for t in await tasks_of(pool, tenant)} >= {"Call them today"}

    with pytest.raises(errors.Invalid):
        await review.dismiss(pool=pool, tenant_id=tenant, suggestion_id=dismiss,
                             operator="ada", reason="   ", now=now)
    dismissed = await review.dismiss(pool=pool, tenant_id=tenant, suggestion_id=dismiss,
                                     operator="ada", reason="already called them", now=now)
    assert dismissed.outcome == "IDEA_REJECTED"

    with pytest.raises(errors.Invalid):  # not past its expiry
        await review.snooze(pool=pool, tenant_id=tenant, suggestion_id=ticket, operator="ada",
                            hours=24 * 29, now=now)
    await review.snooze(pool=pool, tenant_id=tenant, suggestion_id=ticket, operator="ada",
                        hours=4, now=now)
    assert await review.feed(pool=pool, tenant_id=tenant, now=now, limit=10) == []
    [back] = await review.feed(pool=pool, tenant_id=tenant, now=now + timedelta(hours=4),
                               limit=10)
    assert back["action"] == "change_ticket" and back["preview"][0]["after"] == "high"
    done = await review.approve(pool=pool, settings=acting, tenant_id=tenant,
                                suggestion_id=ticket, operator="ada",
                                now=now + timedelta(hours=5),
                                edits=review.Edits(priority="urgent"))
    assert done.result is not None and done.result["diff"] == [
        {"target": f"ticket {people[3].ticket_number}", "field": "priority",
         "before": "medium", "after": "urgent"}]
    approved = [a for a in await audit_of(pool, tenant)
                if a["policy_clause"] == "SUGGESTION.approved"]
    assert [a["payload"]["action"] for a in approved] == [
        "follow_up_task", "follow_up_task", "change_ticket"]
    assert all(a["actor"] == "operator:ada" for a in approved)

    stranger, _ = await acting_tenant(pool, settings)
    with pytest.raises(SuggestionNotFound):
        await review.one(pool=pool, tenant_id=stranger, suggestion_id=dismiss, now=now)


async def test_outreach_is_sent_only_on_a_person_s_approval_with_every_gate_holding(
        db: tuple[Settings, Pool], now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="autopilot")
    who = await customer_with_ticket(pool, tenant)
    await fire(pool, who, now=now, trigger="churn_risk", facts={"probability": 0.7})
    assert await run(pool, acting, now=now) == {"suggested": 1}  # never autopilot
    [row] = await suggestions_of(pool, tenant)
    assert row["action"] == "outbound_message"
    assert row["policy"]["policy_clause"] == "AAP1.high_risk.outbound_message"
    await set_care(pool, tenant, who.customer_id, hands_off_enabled=True,
                   escalation_status="open")
    with pytest.raises(SuggestionConflict, match="escalation"):
        await review.approve(pool=pool, settings=acting, tenant_id=tenant,
                             suggestion_id=row["id"], operator="ada", now=now)
    assert await sent_to(pool, tenant) == []
    await set_care(pool, tenant, who.customer_id, escalation_status="closed")
    await review.approve(pool=pool, settings=acting, tenant_id=tenant, suggestion_id=row["id"],
                         operator="ada", now=now)
    [sent] = await sent_to(pool, tenant)
    assert (sent["status"], sent["channel"], sent["released"]) == ("queued", "email", 1)
    assert sent["metadata"]["approved_by"] == "operator:ada"


async def test_five_dismissals_pause_the_trigger_and_stale_ones_expire(
        db: tuple[Settings, Pool], now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="assist")
    who = await customer_with_ticket(pool, tenant)
    acting = acting.model_copy(update={"suggestions": acting.suggestions.model_copy(
        update={"max_per_trigger": 100})})
    for day in range(5):
        at = now + day * DAY
        await fire(pool, who, now=at)
        assert await run(pool, acting, now=at) == {"suggested": 1}
        [pending] = await review.feed(pool=pool, tenant_id=tenant, now=at, limit=5)
        await review.dismiss(pool=pool, tenant_id=tenant, suggestion_id=pending["id"],
                             operator="ada", reason="not now", now=at)
    await fire(pool, who, now=now + 5 * DAY)
    assert await run(pool, acting, now=now + 5 * DAY) == {"suppressed:paused": 1}
    later = now + 36 * DAY  # the pause (31 days from the fifth) is over
    await fire(pool, who, now=later)
    assert await run(pool, acting, now=later) == {"suggested": 1}
    await pipeline.expire(pool=pool, now=later + timedelta(days=27))
    assert [s["status"] for s in await suggestions_of(pool, tenant)][-1] == "pending"
    assert await pipeline.expire(pool=pool, now=later + timedelta(days=28)) >= 1
    assert [s["status"] for s in await suggestions_of(pool, tenant)][-1] == "expired"
    with pytest.raises(SuggestionConflict):
        await review.snooze(pool=pool, tenant_id=tenant,
                            suggestion_id=(await suggestions_of(pool, tenant))[-1]["id"],
                            operator="ada", hours=1, now=later + timedelta(days=28))


async def test_a_duplicate_is_merged_only_when_a_person_approves(db: tuple[Settings, Pool],
                                                                 now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="autopilot")
    survivor = await customer_with_ticket(pool, tenant)
    duplicate = await customer_with_ticket(pool, tenant)
    await fire(pool, survivor, now=now, trigger="duplicate_customer",
               facts={"survivor_id": str(survivor.customer_id),
                      "duplicate_id": str(duplicate.customer_id), "score": 0.9})
    assert await run(pool, acting, now=now) == {"suggested": 1}  # never autopilot
    [row] = await suggestions_of(pool, tenant)
    assert (row["action"], row["policy"]["policy_clause"]) == (
        "merge_customers", "AAP1.high_risk.merge_customers")
    done = await review.approve(pool=pool, settings=acting, tenant_id=tenant,
                                suggestion_id=row["id"], operator="ada", now=now)
    assert done.result is not None and done.result["merge_id"]
    async with pool.acquire() as conn:
        merged_into = await conn.fetchval(
            "SELECT merged_into FROM customers WHERE tenant_id = $1 AND id = $2",
            tenant, duplicate.customer_id)
    assert merged_into == survivor.customer_id


async def test_the_real_cost_gate_decides_each_model_proposal_in_its_own_transaction(
        db: tuple[Settings, Pool], now: datetime) -> None:
    """bootstrap's wiring: the DecisionCostGate on a connection of its own (its reservation's
    lock is not held for the pass's batch) before OpenAI is called, its decision audited; the
    local proposer calls no model and spends nothing, so it is not the gate's to decide."""
    from production.care import cost_gate

    settings, pool = db
    gate = pipeline.on_own_connection(pool, cost_gate.check)
    tenant, acting = await acting_tenant(pool, settings, mode="assist")
    await fire(pool, await customer_with_ticket(pool, tenant), now=now)
    assert await run(pool, acting, now=now, gate=gate) == {"suggested": 1}
    assert await _cost_decisions(pool, tenant) == []

    tenant, acting = await acting_tenant(pool, settings, mode="assist")
    await fire(pool, await customer_with_ticket(pool, tenant), now=now)
    answer = ('{"action": "follow_up_task", "title": "Call Grace about the export", '
              '"body": "Phone her today.", "reason": "The first response is late.", '
              '"confidence": 0.9}')
    async with FakeOpenAI(policy=scripted([message(answer)])) as fake:
        proposer = _openai(acting, fake)
        assert await run(pool, acting, now=now, gate=gate, proposer=proposer,
                         settle=pipeline.settling_on_own_connection(pool)) == {"suggested": 1}
        assert len(fake.bodies()) == 1
    assert await _cost_decisions(pool, tenant) == [("ALLOW", "stalled_ticket")]
    # The reservation (the estimate) was replaced by what the call used.
    async with pool.acquire() as conn:
        day_tokens = await conn.fetchval(
            "SELECT tokens FROM care_model_budget WHERE tenant_id = $1", tenant)
    assert fake.tokens_served > 0 and day_tokens == fake.tokens_served


async def _cost_decisions(pool: Pool, tenant: str) -> list[tuple[str, str]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT decision, trigger FROM care_cost_decisions"
                                " WHERE tenant_id = $1 ORDER BY id", tenant)
    return [(r["decision"], r["trigger"]) for r in rows]


async def _broken_gate(**_: Any) -> Any:
    raise RuntimeError("the gate broke")


async def test_a_firing_whose_pipeline_fails_waits_an_hour_then_is_tried_again(
        db: tuple[Settings, Pool], now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="assist")
    firing = await fire(pool, await customer_with_ticket(pool, tenant), now=now)
    assert await run(pool, acting, now=now, gate=_broken_gate) == {"failed": 1}
    row = await firing_row(pool, tenant, firing)
    assert (row["decision"], row["retry_at"]) == ("deferred", now + pipeline.FAILED_RETRY_AFTER)
    assert await run(pool, acting, now=now + timedelta(minutes=59)) == {}  # not yet
    assert await run(pool, acting, now=now + pipeline.FAILED_RETRY_AFTER) == {"suggested": 1}
    assert (await firing_row(pool, tenant, firing))["decision"] == "suggested"
