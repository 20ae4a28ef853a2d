"""The executor against the real PostgreSQL: a reply is released only when every gate holds,
each gate alone holds it and says which, pacing defers and the scheduler releases, and a
person's approval goes through the executor with their name on it.

The module has a database of its own; every test makes tenants of its own in it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from production.care import decision, executor
from production.config import CareSettings, Settings
from production.database.pool import Pool
from production.database.queries import care_state
from production.domain.care.policy import ActionKind, ProposedAction, Topic
from production.services import scheduler
from tests.integration.care_world import (
    acting_tenant,
    allowing,
    care_db,
    customer_writes,
    fate,
    new_tenant,
    proposal_of,
    set_care,
    submit,
    with_care,
)

db = care_db("executor", max_size=12)


async def test_a_reply_is_released_when_every_gate_holds(
    db: tuple[Settings, Pool], now: datetime
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings)
    reply = await submit(pool, ceiling, await customer_writes(pool, tenant), now=now)
    done = await fate(pool, tenant, reply)
    assert (done.status, done.released, done.proposal) == ("queued", 1, None)
    [row] = done.audit
    assert (row["event_type"], row["actor"], row["policy_clause"]) == (
        "executed_action", "fte-agent", "PR7.all_gates")
    assert row["payload"]["decision"]["decision"] == "AUTO_EXECUTE"
    assert row["payload"]["decision"]["mode"] == "autopilot"
    assert row["payload"]["content"].startswith("Use 'Forgot password'")


# Each case changes one fact of the passing situation and names the gate that must hold it.
HOLDS: list[tuple[str, dict[str, Any], str]] = [
    ("autonomy disabled", {"ceiling": {"autonomy_enabled": False}}, "PR0.autonomy_disabled"),
    ("shadow mode", {"ceiling": {"shadow_mode": True}}, "PR0.shadow_mode"),
    ("global kill switch", {"global_kill": True}, "KILL.global"),
    ("tenant kill switch", {"tenant": {"kill_switch": True}}, "KILL.tenant"),
    ("tenant not allowlisted", {"allowlist": []}, "PR8.tenant_allowlist"),
    ("no hands-off consent", {"tenant": {"hands_off_new": False}}, "PR9.hands_off"),
    ("open escalation", {"escalation": True}, "PR3.escalation_open"),
    ("assist mode", {"tenant": {"mode": "assist"}}, "AAP1.mode.assist"),
    ("approve mode", {"tenant": {"mode": "approve"}}, "AAP1.mode.approve"),
    ("ungrounded reply", {"action": ProposedAction(ActionKind.SEND_REPLY,
                                                   in_reply_to_inbound=True)},
     "AAP1.high_risk.ungrounded_reply"),
    ("a refund", {"action": ProposedAction(ActionKind.SEND_REPLY, in_reply_to_inbound=True,
                                           kb_grounded=True,
                                           topics=frozenset({Topic.REFUND}))},
     "AAP1.humans_only.refund"),
    ("unsolicited contact", {"action": ProposedAction(ActionKind.OUTBOUND_MESSAGE,
                                                      kb_grounded=True)},
     "AAP1.high_risk.outbound_message"),
    ("customer daily max", {"tenant": {"max_per_customer": 0}}, "PR10.customer_daily_max"),
    ("tenant budget", {"tenant": {"daily_budget": 0}}, "PR10.tenant_daily_budget"),
]


@pytest.mark.parametrize(("case", "change", "clause"), HOLDS, ids=[c[0] for c in HOLDS])
async def test_each_gate_alone_holds_the_reply_and_says_which(
    db: tuple[Settings, Pool], now: datetime, case: str, change: dict[str, Any], clause: str
) -> None:
    settings, pool = db
    tenant = await new_tenant(pool, **change.get("tenant", {}))
    care = allowing(*change.get("allowlist", [tenant]), **change.get("ceiling", {}))
    inbound = await customer_writes(pool, tenant)
    if change.get("escalation"):
        async with pool.acquire() as conn:
            await care_state.open_escalation(conn, tenant, inbound.customer_id, "refund",
                                             actor="test", now=now)
    if change.get("global_kill"):
        async with pool.acquire() as conn:
            await conn.execute("UPDATE care_global SET kill_switch = true")
    try:
        reply = await submit(pool, with_care(settings, care), inbound, now=now,
                             action=change.get("action", decision.reply_action(
                                 kb_grounded=True)))
    finally:
        async with pool.acquire() as conn:
            await conn.execute("UPDATE care_global SET kill_switch = false")
    held = await fate(pool, tenant, reply)
    assert (held.status, held.released) == ("pending_approval", 0), case
    assert held.clause == clause, case
    assert held.proposal is not None and held.proposal["status"] == "pending"
    assert held.proposal["decision"]["gate"] == {
        "verdict": "HOLD", "clause": clause, "reason": held.audit[-1]["reason"],
        "not_before": None}
    expected_event = ("blocked_action" if clause.startswith("AAP1.humans_only")
                      else "would_execute_action")
    assert [a["event_type"] for a in held.audit] == [expected_event]


async def test_the_customer_override_outranks_the_tenant_mode(
    db: tuple[Settings, Pool], now: datetime
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, mode="approve")
    trusted = await customer_writes(pool, tenant)
    await set_care(pool, tenant, trusted.customer_id, autonomy_mode="autopilot",
                   hands_off_enabled=True)
    careful = await customer_writes(pool, tenant)
    assert (await fate(pool, tenant, await submit(pool, ceiling, trusted, now=now))
            ).status == "queued"
    held = await fate(pool, tenant, await submit(pool, ceiling, careful, now=now))
    assert (held.status, held.clause) == ("pending_approval", "AAP1.mode.approve")


async def test_concurrent_replies_never_exceed_the_customer_daily_max(
    db: tuple[Settings, Pool], now: datetime
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, max_per_customer=3)
    first = await customer_writes(pool, tenant)
    same_person = [first] + [await customer_writes(pool, tenant, email=first.email)
                             for _ in range(9)]
    replies = await asyncio.gather(*(submit(pool, ceiling, m, now=now) for m in same_person))
    fates = [await fate(pool, tenant, r) for r in replies]
    assert sorted(f.status for f in fates) == ["pending_approval"] * 7 + ["queued"] * 3
    assert {f.clause for f in fates if f.status != "queued"} == {"PR10.customer_daily_max"}
    assert sum(f.released for f in fates) == 3


async def test_the_minimum_interval_defers_and_the_scheduler_releases_it_when_due(
    db: tuple[Settings, Pool], now: datetime
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, min_interval_s=120)
    first = await customer_writes(pool, tenant)
    second = await customer_writes(pool, tenant, email=first.email)
    assert (await fate(pool, tenant, await submit(pool, ceiling, first, now=now))
            ).status == "queued"
    reply = await submit(pool, ceiling, second, now=now + timedelta(seconds=30))
    waiting = await fate(pool, tenant, reply)
    assert (waiting.status, waiting.released, waiting.proposal) == ("deferred", 0, None)
    assert waiting.clause == "PR10.min_interval"
    assert waiting.audit[-1]["event_type"] == "would_execute_action"
    assert waiting.deferred_until == now + timedelta(seconds=120)
    due = waiting.deferred_until
    not_yet = await scheduler.release_due(pool=pool, settings=ceiling,
                                          now=due - timedelta(seconds=1))
    assert not_yet["queued"] == 0  # not due yet: nothing moves
    assert (await fate(pool, tenant, reply)).status == "deferred"
    assert (await scheduler.release_due(pool=pool, settings=ceiling, now=due))["queued"] >= 1
    sent = await fate(pool, tenant, reply)
    assert (sent.status, sent.released, sent.deferred_until) == ("queued", 1, None)
    assert [a["event_type"] for a in sent.audit] == ["would_execute_action", "executed_action"]
    assert sent.audit[-1]["payload"]["deferred"] is True


def _quiet_around(now: datetime, minutes_left: int) -> tuple[time, time]:
    """Quiet hours (UTC) that started an hour before `now` and end `minutes_left` minutes
    after it (whole minutes: the end is a wall-clock time)."""
    end = (now + timedelta(minutes=minutes_left)).replace(second=0, microsecond=0)
    return (now - timedelta(hours=1)).time().replace(second=0, microsecond=0), end.time()


async def test_quiet_hours_defer_until_their_end_and_a_kill_switch_meanwhile_holds_it(
    db: tuple[Settings, Pool], now: datetime
) -> None:
    settings, pool = db
    start, end = _quiet_around(now, 30)
    tenant, ceiling = await acting_tenant(pool, settings, quiet=(start, end))
    reply = await submit(pool, ceiling, await customer_writes(pool, tenant), now=now)
    waiting = await fate(pool, tenant, reply)
    assert (waiting.status, waiting.clause) == ("deferred", "PR10.quiet_hours")
    assert waiting.deferred_until.time() == end and waiting.deferred_until > now
    assert waiting.audit[-1]["payload"]["decision"]["gate"]["not_before"] == (
        waiting.deferred_until.isoformat())
    async with pool.acquire() as conn:
        await conn.execute("UPDATE care_settings SET kill_switch = true WHERE tenant_id = $1",
                           tenant)
    released = await scheduler.release_due(pool=pool, settings=ceiling, now=waiting.deferred_until)
    assert released["pending_approval"] >= 1
    held = await fate(pool, tenant, reply)
    assert (held.status, held.released, held.clause) == ("pending_approval", 0, "KILL.tenant")
    assert held.proposal is not None and held.proposal["status"] == "pending"


async def test_a_person_approving_is_not_autonomy_and_is_recorded(
    db: tuple[Settings, Pool], now: datetime
) -> None:
    from production.care import inbox

    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, mode="assist", kill_switch=True)
    reply = await submit(pool, ceiling, await customer_writes(pool, tenant), now=now)
    proposal_id = await proposal_of(pool, tenant, reply)
    decided = await inbox.approve(pool=pool, settings=ceiling, tenant_id=tenant,
                                  proposal_id=proposal_id, operator="ada", now=now)
    assert (decided.status, decided.decided_by) == ("approved", "operator:ada")
    sent = await fate(pool, tenant, reply)
    assert (sent.status, sent.released) == ("queued", 1)
    assert (sent.audit[-1]["event_type"], sent.audit[-1]["actor"], sent.clause) == (
        "executed_action", "operator:ada", "INBOX.approved")


async def test_an_inbound_message_moves_the_state_and_a_rejection_loses_the_customer(
    db: tuple[Settings, Pool], now: datetime
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings)
    inbound = await customer_writes(pool, tenant)
    async with pool.acquire() as conn:
        await executor.track_inbound(conn=conn, settings=ceiling, tenant_id=tenant,
                                     customer_id=inbound.customer_id, at=now,
                                     explicit_rejection=False, now=now)
        assert (await care_state.get_current_state(conn, tenant, inbound.customer_id)
                ).state == "engaged"
        await executor.track_inbound(conn=conn, settings=ceiling, tenant_id=tenant,
                                     customer_id=inbound.customer_id, at=now,
                                     explicit_rejection=True, now=now)
        record = await care_state.get_current_state(conn, tenant, inbound.customer_id)
        history = await conn.fetch(
            "SELECT from_state, to_state, actor FROM customer_care_state_history "
            "WHERE tenant_id = $1 ORDER BY id", tenant)
    assert (record.state, record.last_signal_at) == ("lost", now)
    assert [(h["from_state"], h["to_state"], h["actor"]) for h in history] == [
        ("unaware", "engaged", "fte-agent"), ("engaged", "lost", "fte-agent")]


async def test_in_shadow_mode_the_state_is_only_proposed(
    db: tuple[Settings, Pool], now: datetime
) -> None:
    settings, pool = db
    tenant = await new_tenant(pool)
    shadow = with_care(settings, CareSettings(autonomy_enabled=True, shadow_mode=True,
                                              tenant_allowlist=[tenant]))
    inbound = await customer_writes(pool, tenant)
    async with pool.acquire() as conn:
        await executor.track_inbound(conn=conn, settings=shadow, tenant_id=tenant,
                                     customer_id=inbound.customer_id,
                                     at=now, explicit_rejection=False, now=now)
        record = await care_state.get_current_state(conn, tenant, inbound.customer_id)
        proposals = await conn.fetch(
            "SELECT payload FROM care_audit WHERE tenant_id = $1 "
            "AND event_type = 'proposed_state_change'", tenant)
    assert record.state == "unaware" and record.last_signal_at is not None
    assert [p["payload"] for p in proposals] == [
        {"from": "unaware", "to": "engaged", "applied": False}]


async def test_the_daily_budget_is_the_day_of_the_callers_instant_not_the_databases(
    db: tuple[Settings, Pool], now: datetime
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, daily_budget=1,
                                          timezone="Pacific/Auckland")
    # A day far from the database's own: its budget, its counter row, its audit rows.
    day = datetime(2031, 7, 1, 23, 30, tzinfo=UTC)  # 11:30 on 2 July in Auckland
    first = await submit(pool, ceiling, await customer_writes(pool, tenant), now=day)
    second = await submit(pool, ceiling, await customer_writes(pool, tenant), now=day)
    next_day = await submit(pool, ceiling, await customer_writes(pool, tenant),
                            now=day + timedelta(days=1))
    today = await submit(pool, ceiling, await customer_writes(pool, tenant), now=now)
    assert [(await fate(pool, tenant, r)).status for r in (first, second, next_day, today)] == [
        "queued", "pending_approval", "queued", "queued"]
    assert (await fate(pool, tenant, second)).clause == "PR10.tenant_daily_budget"
    async with pool.acquire() as conn:
        counted = await conn.fetch(
            "SELECT day, actions FROM care_daily_actions WHERE tenant_id = $1 ORDER BY day",
            tenant)
        audited = await conn.fetchval(
            "SELECT created_at FROM care_audit WHERE tenant_id = $1 AND message_id = $2",
            tenant, first)
    by_day = {str(c["day"]): c["actions"] for c in counted}
    assert (by_day["2031-07-02"], by_day["2031-07-03"], sum(by_day.values())) == (1, 1, 3)
    assert audited == day


async def test_a_care_row_written_without_its_instant_is_refused(
    db: tuple[Settings, Pool]
) -> None:
    import asyncpg

    _, pool = db
    tenant = await new_tenant(pool)
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.NotNullViolationError):
            await conn.execute(
                "INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause, "
                "payload) VALUES ($1, 'executed_action', 'fte-agent', 'x', 'PR7.all_gates', "
                "'{}')", tenant)
