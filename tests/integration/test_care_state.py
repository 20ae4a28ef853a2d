"""The C.A.R.E. state, escalation, hands-off and throttle counts against the real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from production.care.throttle import (
    ThrottleSettings,
    check,
    local_day_start,
    next_local_day_start,
)
from production.database.pool import Connection, Pool
from production.database.queries import care_state, care_throttle
from production.database.queries.care_state import CustomerNotFound, StaleTransition
from production.domain.care.state_engine import CareState, Signal, SignalKind, Transition

INBOUND = Signal(SignalKind.INBOUND_MESSAGE)
SILENCE = Signal(SignalKind.SILENCE)
TABLES = ("customer_care_state", "customer_care_state_history", "care_audit")


async def new_tenant(pool: Pool, *, timezone: str = "UTC") -> str:
    tenant = f"care-{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO tenants (id, name, timezone) VALUES ($1, $2, $3)",
                           tenant, f"Tenant {tenant}", timezone)
    return tenant


async def new_customer(pool: Pool, tenant: str) -> UUID:
    async with pool.acquire() as conn:
        customer: UUID = await conn.fetchval(
            "INSERT INTO customers (tenant_id, name) VALUES ($1, 'Grace Hopper') RETURNING id",
            tenant)
    return customer


async def rows(pool: Pool, tenant: str) -> dict[str, int]:
    """Return how many rows each C.A.R.E. table holds for the tenant."""
    async with pool.acquire() as conn:
        return {table: await conn.fetchval(
            f"SELECT count(*) FROM {table} WHERE tenant_id = $1", tenant)
            for table in TABLES}


async def audit(pool: Pool, tenant: str) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        found = await conn.fetch(
            "SELECT event_type, actor, reason, policy_clause, customer_id, payload "
            "FROM care_audit WHERE tenant_id = $1 ORDER BY id", tenant)
    return [dict(row) for row in found]


async def seed_state(pool: Pool, tenant: str, customer: UUID, state: str, *,
                     last_signal_at: datetime | None) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO customer_care_state (tenant_id, entity_type, entity_id, care_state, "
            "last_signal_at) VALUES ($1, 'contact', $2, $3, $4)",
            tenant, customer, state, last_signal_at)


async def test_a_customer_without_a_row_reads_as_the_defaults_and_nothing_is_written(
    pool: Pool,
) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    async with pool.acquire() as conn:
        record = await care_state.get_current_state(conn, tenant, customer)
    assert record == care_state.CareRecord(
        customer_id=customer, state=CareState.UNAWARE, hands_off_enabled=False,
        escalation_status=None, autonomy_mode=None, tenant_autonomy_mode="assist",
        last_signal_at=None, stored=False)
    assert record.effective_autonomy_mode == "assist" and not record.escalation_open
    assert await rows(pool, tenant) == dict.fromkeys(TABLES, 0)

    # The tenant's defaults for customers it never decided about: its mode and hands-off.
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO care_settings (tenant_id, autonomy_mode, hands_off_new_customers) "
            "VALUES ($1, 'autopilot', true)", tenant)
        record = await care_state.get_current_state(conn, tenant, customer)
    assert (record.hands_off_enabled, record.effective_autonomy_mode) == (True, "autopilot")
    assert await rows(pool, tenant) == dict.fromkeys(TABLES, 0)


async def test_proposing_reads_the_state_and_writes_nothing(pool: Pool, now: datetime) -> None:
    tenant = await new_tenant(pool)
    quiet, fresh = await new_customer(pool, tenant), await new_customer(pool, tenant)
    await seed_state(pool, tenant, quiet, "engaged", last_signal_at=now - timedelta(days=20))
    before = await rows(pool, tenant)
    async with pool.acquire() as conn:
        decayed = await care_state.propose_transition(conn, tenant, quiet, SILENCE, now=now)
        engaged = await care_state.propose_transition(conn, tenant, fresh, INBOUND, now=now)
        unchanged = await care_state.propose_transition(conn, tenant, quiet, INBOUND, now=now)
    assert decayed is not None
    assert (decayed.from_state, decayed.to_state, decayed.rule) == (
        "engaged", "at_risk", "CARE.silence.at_risk")
    assert engaged == Transition(CareState.UNAWARE, CareState.ENGAGED,
                                 "inbound message while unaware", "CARE.inbound.engage")
    assert unchanged is None
    assert await rows(pool, tenant) == before == {"customer_care_state": 1,
                                                  "customer_care_state_history": 0,
                                                  "care_audit": 0}
    async with pool.acquire() as conn:
        assert (await care_state.get_current_state(conn, tenant, quiet)).state == "engaged"


async def test_recording_a_proposal_appends_only_an_audit_row(pool: Pool, now: datetime) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    async with pool.acquire() as conn:
        proposal = await care_state.propose_transition(conn, tenant, customer, INBOUND,
                                                       now=now)
        assert proposal is not None
        await care_state.record_proposal(conn, tenant, customer, proposal, actor="fte-shadow",
                                         now=now)
        with pytest.raises(ValueError, match="actor"):
            await care_state.record_proposal(conn, tenant, customer, proposal, actor=" ", now=now)
    assert await rows(pool, tenant) == {"customer_care_state": 0,
                                        "customer_care_state_history": 0, "care_audit": 1}
    [row] = await audit(pool, tenant)
    assert row == {"event_type": "proposed_state_change", "actor": "fte-shadow",
                   "reason": "inbound message while unaware",
                   "policy_clause": "CARE.inbound.engage", "customer_id": customer,
                   "payload": {"from": "unaware", "to": "engaged", "applied": False}}


async def test_applying_writes_the_state_one_history_row_and_one_audit_row(
    pool: Pool, now: datetime
) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    signal_at = now - timedelta(minutes=5)
    async with pool.acquire() as conn, conn.transaction():
        applied = await care_state.apply_transition(
            conn, tenant, customer, "engaged", reason="inbound message while unaware",
            actor="fte-worker", rule="CARE.inbound.engage", expected_from="unaware",
            signal_at=signal_at, now=now)
    assert applied == Transition(CareState.UNAWARE, CareState.ENGAGED,
                                 "inbound message while unaware", "CARE.inbound.engage")
    assert await rows(pool, tenant) == dict.fromkeys(TABLES, 1)
    async with pool.acquire() as conn:
        record = await care_state.get_current_state(conn, tenant, customer)
        history = await conn.fetch(
            "SELECT entity_type, entity_id, from_state, to_state, reason, actor "
            "FROM customer_care_state_history WHERE tenant_id = $1", tenant)
    assert (record.state, record.stored, record.last_signal_at) == ("engaged", True, signal_at)
    assert [tuple(h.values()) for h in history] == [
        ("contact", customer, "unaware", "engaged", "inbound message while unaware",
         "fte-worker")]
    [row] = await audit(pool, tenant)
    assert (row["event_type"], row["policy_clause"], row["payload"]) == (
        "proposed_state_change", "CARE.inbound.engage",
        {"from": "unaware", "to": "engaged", "applied": True})

    # Applying the state it already has writes nothing.
    async with pool.acquire() as conn:
        assert await care_state.apply_transition(conn, tenant, customer, "engaged",
                                                 reason="again", actor="fte-worker",
                                                 now=now) is None
    assert await rows(pool, tenant) == dict.fromkeys(TABLES, 1)


async def test_a_bad_transition_writes_nothing(pool: Pool, now: datetime) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    async with pool.acquire() as conn:
        for bad_reason in ("", "   \n"):
            with pytest.raises(ValueError, match="reason"):
                await care_state.apply_transition(conn, tenant, customer, "engaged",
                                                  reason=bad_reason, actor="ops", now=now)
        with pytest.raises(ValueError, match=r"not a C\.A\.R\.E\. state"):
            await care_state.apply_transition(conn, tenant, customer, "delighted",
                                              reason="they said thanks", actor="ops", now=now)
        with pytest.raises(ValueError, match="actor"):
            await care_state.apply_transition(conn, tenant, customer, "engaged",
                                              reason="replied", actor="", now=now)
        with pytest.raises(StaleTransition, match="unaware, not dormant"):
            await care_state.apply_transition(conn, tenant, customer, "reactivated",
                                              reason="wrote again", actor="ops",
                                              expected_from="dormant", now=now)
    assert await rows(pool, tenant) == dict.fromkeys(TABLES, 0)

    # In the caller's transaction: if the caller rolls back, the transition never happened.
    with pytest.raises(RuntimeError, match="caller failed"):
        async with pool.acquire() as conn, conn.transaction():
            await care_state.apply_transition(conn, tenant, customer, "aware",
                                              reason="opened the newsletter", actor="ops", now=now)
            raise RuntimeError("caller failed")
    assert await rows(pool, tenant) == dict.fromkeys(TABLES, 0)


async def test_a_stale_transition_of_an_existing_row_rolls_back_its_savepoint(
    pool: Pool, now: datetime
) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    await seed_state(pool, tenant, customer, "at_risk", last_signal_at=None)
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(StaleTransition):
            await care_state.apply_transition(conn, tenant, customer, "dormant",
                                              reason="silence", actor="ops",
                                              expected_from="engaged", now=now)
        # The caller's transaction is still usable and the right transition goes through.
        applied = await care_state.apply_transition(conn, tenant, customer, "dormant",
                                                    reason="silence", actor="ops",
                                                    expected_from="at_risk", now=now)
    assert applied is not None and applied.from_state == "at_risk"
    assert await rows(pool, tenant) == dict.fromkeys(TABLES, 1)


async def test_concurrent_applies_of_one_proposal_make_one_transition(
    pool: Pool, now: datetime
) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)

    async def apply(worker: str) -> Transition | None:
        async with pool.acquire() as conn, conn.transaction():
            applied = await care_state.apply_transition(
                conn, tenant, customer, "engaged", reason="inbound message while unaware",
                actor=worker, expected_from="unaware", now=now)
            await asyncio.sleep(0.05)  # hold the row lock while the other worker waits
            return applied

    results = await asyncio.gather(apply("worker-1"), apply("worker-2"),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["StaleTransition", "Transition"]
    assert await rows(pool, tenant) == dict.fromkeys(TABLES, 1)


async def test_signals_only_move_forward_and_silence_then_decays_the_state(
    pool: Pool, now: datetime
) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    async with pool.acquire() as conn:
        await care_state.apply_transition(conn, tenant, customer, "engaged", reason="wrote in",
                                          actor="fte-worker", now=now)
        await care_state.record_signal(conn, tenant, customer, now - timedelta(days=15), now=now)
        await care_state.record_signal(conn, tenant, customer, now - timedelta(days=30), now=now)
        record = await care_state.get_current_state(conn, tenant, customer)
        assert record.last_signal_at == now - timedelta(days=15)
        proposal = await care_state.propose_transition(conn, tenant, customer, SILENCE, now=now)
    assert proposal is not None and proposal.to_state == CareState.AT_RISK


async def test_escalation_opens_and_closes_with_an_audit_row_each(
    pool: Pool, now: datetime
) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    async with pool.acquire() as conn:
        assert await care_state.close_escalation(conn, tenant, customer, "ops", "nothing open",
                                                 now=now) \
            is False
        assert await care_state.open_escalation(conn, tenant, customer, "asked for a refund",
                                                "fte-agent", now=now) is True
        assert (await care_state.get_current_state(conn, tenant, customer)).escalation_open
        assert await care_state.open_escalation(conn, tenant, customer, "angry follow-up",
                                                "fte-agent", now=now) is False
        with pytest.raises(ValueError, match="reason"):
            await care_state.open_escalation(conn, tenant, customer, " ", "fte-agent", now=now)
        assert await care_state.close_escalation(conn, tenant, customer, "ada@ops",
                                                 "refund handled by billing", now=now) is True
        record = await care_state.get_current_state(conn, tenant, customer)
        assert await care_state.close_escalation(conn, tenant, customer, "ada@ops",
                                                 "again", now=now) is False
    assert (record.escalation_status, record.escalation_open) == ("closed", False)
    assert record.state == CareState.UNAWARE  # escalation does not move the care state
    trail = [(r["event_type"], r["actor"], r["reason"], r["policy_clause"], r["payload"])
             for r in await audit(pool, tenant)]
    assert trail == [
        ("would_escalate", "fte-agent", "asked for a refund", "PR3.escalation_open",
         {"escalation_status": "open", "before": None}),
        ("would_escalate", "fte-agent", "angry follow-up", "PR3.escalation_open",
         {"escalation_status": "open", "before": "open"}),
        ("executed_action", "ada@ops", "refund handled by billing", "ADMIN.escalation_closed",
         {"action": "close_escalation", "before": "open", "after": "closed"}),
    ]
    assert (await rows(pool, tenant))["customer_care_state_history"] == 0


async def test_hands_off_is_reversible_and_each_change_is_audited(
    pool: Pool, now: datetime
) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    async with pool.acquire() as conn:
        assert await care_state.set_hands_off(conn, tenant, customer, True, "ada@ops",
                                              now=now) is True
        assert (await care_state.get_current_state(conn, tenant, customer)).hands_off_enabled
        assert await care_state.set_hands_off(conn, tenant, customer, True, "ada@ops",
                                              now=now) is False
        assert await care_state.set_hands_off(conn, tenant, customer, False, "bob@ops",
                                              reason="customer asked for a person", now=now) is True
        record = await care_state.get_current_state(conn, tenant, customer)
    assert record.hands_off_enabled is False and record.stored
    trail = [(r["event_type"], r["actor"], r["reason"], r["policy_clause"], r["payload"])
             for r in await audit(pool, tenant)]
    assert trail == [
        ("executed_action", "ada@ops", "hands-off enabled by ada@ops", "ADMIN.hands_off",
         {"action": "set_hands_off", "before": False, "after": True}),
        ("executed_action", "bob@ops", "customer asked for a person", "ADMIN.hands_off",
         {"action": "set_hands_off", "before": True, "after": False}),
    ]


async def test_an_explicit_hands_off_decision_outlives_the_tenant_default(
    pool: Pool, now: datetime
) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO care_settings (tenant_id, hands_off_new_customers) "
                           "VALUES ($1, true)", tenant)
        # Equal to the default: stored, not audited (nothing changed).
        assert await care_state.set_hands_off(conn, tenant, customer, True, "ada@ops",
                                              now=now) is False
        await conn.execute("UPDATE care_settings SET hands_off_new_customers = false "
                           "WHERE tenant_id = $1", tenant)
        assert (await care_state.get_current_state(conn, tenant, customer)).hands_off_enabled
    assert await rows(pool, tenant) == {"customer_care_state": 1,
                                        "customer_care_state_history": 0, "care_audit": 0}


async def test_another_tenants_customer_is_never_read_or_written(pool: Pool, now: datetime) -> None:
    ours, theirs = await new_tenant(pool), await new_tenant(pool)
    their_customer = await new_customer(pool, theirs)
    await seed_state(pool, theirs, their_customer, "committed", last_signal_at=now)
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE customer_care_state SET hands_off_enabled = true, escalation_status = 'open' "
            "WHERE tenant_id = $1", theirs)
        calls = [
            care_state.get_current_state(conn, ours, their_customer),
            care_state.propose_transition(conn, ours, their_customer, INBOUND, now=now),
            care_state.apply_transition(conn, ours, their_customer, "lost", reason="x",
                                        actor="ops", now=now),
            care_state.record_proposal(conn, ours, their_customer,
                                       Transition(CareState.ACTIVE, CareState.LOST, "x", "r"),
                                       actor="ops", now=now),
            care_state.record_signal(conn, ours, their_customer, now, now=now),
            care_state.open_escalation(conn, ours, their_customer, "x", "ops", now=now),
            care_state.close_escalation(conn, ours, their_customer, "ops", "x", now=now),
            care_state.set_hands_off(conn, ours, their_customer, False, "ops", now=now),
        ]
        for call in calls:
            with pytest.raises(CustomerNotFound):
                await call
        assert await care_throttle.counts(conn, ours, their_customer, now - timedelta(days=1),
                                          now + timedelta(days=1)) \
            == (0, 0, None)
        record = await care_state.get_current_state(conn, theirs, their_customer)
    assert await rows(pool, ours) == dict.fromkeys(TABLES, 0)
    assert await rows(pool, theirs) == {"customer_care_state": 1,
                                        "customer_care_state_history": 0, "care_audit": 0}
    assert (record.state, record.hands_off_enabled, record.escalation_status) == (
        "committed", True, "open")
    with pytest.raises(CustomerNotFound):
        async with pool.acquire() as conn:
            await care_state.get_current_state(conn, ours, uuid.uuid4())


async def test_a_merged_customer_stands_for_the_one_it_was_merged_into(
    pool: Pool, now: datetime
) -> None:
    tenant = await new_tenant(pool)
    survivor, duplicate = await new_customer(pool, tenant), await new_customer(pool, tenant)
    async with pool.acquire() as conn:
        await conn.execute("UPDATE customers SET merged_into = $2, merged_at = now() "
                           "WHERE tenant_id = $1 AND id = $3", tenant, survivor, duplicate)
        await care_state.apply_transition(conn, tenant, duplicate, "engaged",
                                          reason="wrote from the old address", actor="ops", now=now)
        record = await care_state.get_current_state(conn, tenant, survivor)
    assert (record.customer_id, record.state) == (survivor, "engaged")


async def executed(conn: Connection, tenant: str,
                   customer: UUID | None, at: datetime, *, action: str = "send_reply",
                   clause: str = "PR7.all_gates", event: str = "executed_action") -> None:
    await conn.execute(
        "INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause, "
        "customer_id, payload, created_at) VALUES ($1, $2, 'fte-agent', 'test', $3, $4, "
        "jsonb_build_object('action', $5::text), $6)",
        tenant, event, clause, customer, action, at)


async def test_throttle_counts_come_from_executed_actions_of_the_local_day(pool: Pool) -> None:
    tenant = await new_tenant(pool, timezone="America/New_York")
    other = await new_tenant(pool, timezone="America/New_York")
    a, b, merged, late = (await new_customer(pool, tenant), await new_customer(pool, tenant),
                          await new_customer(pool, tenant), await new_customer(pool, tenant))
    stranger = await new_customer(pool, other)
    now = datetime(2030, 3, 10, 16, tzinfo=UTC)  # noon EDT, the day clocks went forward
    day_start = local_day_start(now, "America/New_York")
    day_end = next_local_day_start(now, "America/New_York")
    assert (day_start, day_end) == (datetime(2030, 3, 10, 5, tzinfo=UTC),
                                    datetime(2030, 3, 11, 4, tzinfo=UTC))
    async with pool.acquire() as conn:
        await conn.execute("UPDATE customers SET merged_into = $2, merged_at = now() "
                           "WHERE tenant_id = $1 AND id = $3", tenant, a, merged)
        await executed(conn, tenant, a, day_start - timedelta(seconds=1))  # yesterday
        await executed(conn, tenant, a, day_start + timedelta(hours=1))
        await executed(conn, tenant, merged, day_start + timedelta(hours=2))
        await executed(conn, tenant, a, day_start + timedelta(hours=3), action="internal_note")
        await executed(conn, tenant, b, day_start + timedelta(hours=4))
        # Not autonomous actions: an operator's change, a held draft, another tenant's.
        await executed(conn, tenant, a, day_start + timedelta(hours=5), clause="ADMIN.hands_off",
                       action="set_hands_off")
        await executed(conn, tenant, None, day_start + timedelta(hours=5),
                       clause="ADMIN.settings", action="")
        await executed(conn, tenant, a, day_start + timedelta(hours=5),
                       event="would_execute_action")
        await executed(conn, other, stranger, day_start + timedelta(hours=5))
        await executed(conn, tenant, late, day_end)  # tomorrow's: not today's allowance
        async with conn.transaction():
            await care_throttle.lock_tenant(conn, tenant)
            counted = await care_throttle.counts(conn, tenant, a, day_start, day_end)
        counted_b = await care_throttle.counts(conn, tenant, b, day_start, day_end)
        counted_late = await care_throttle.counts(conn, tenant, late, day_start, day_end)
        counted_other = await care_throttle.counts(conn, other, stranger, day_start, day_end)
    assert counted == care_throttle.ThrottleCounts(3, 4, day_start + timedelta(hours=2))
    assert counted_b == (1, 4, day_start + timedelta(hours=4))
    assert counted_late == (0, 4, day_end)  # still the last outbound: pacing sees it
    assert counted_other == (1, 1, day_start + timedelta(hours=5))

    customer_today, tenant_today, last = counted
    limits = ThrottleSettings(max_actions_per_customer_day=3)
    decision = check(now, "America/New_York", limits, actions_today_customer=customer_today,
                     actions_today_tenant=tenant_today, last_outbound_at=last)
    assert (decision.outcome, decision.until) == ("REFUSE", datetime(2030, 3, 11, 4,
                                                                     tzinfo=UTC))
