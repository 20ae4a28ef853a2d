"""The scheduler against the real PostgreSQL: silence decays the state once per step, expired
drafts are never sent, the daily digest says what autopilot did, a schedules-mode tenant's
timed run creates follow-up tasks within its budget and only after the digest, and approved
replies get their outcome labels.

Every pass is handed its instant: NOON is a fixed day, whatever the date the suite runs on, and
"later" is a later instant passed down, never a sleep. The database's own clock decides
nothing here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from production.care import inbox as care_inbox
from production.config import CareSettings, Settings
from production.database.pool import Pool
from production.database.queries import admin, care_state, inbox
from production.database.queries.inbox import PROPOSAL_LIFETIME
from production.domain.delivery import DeliveryReceipt, OutboundMessage
from production.domain.messages import OutboundNotice
from production.metrics import CARE_WAITING, INBOX_OLDEST, KILL_SWITCH, LINKED_CUSTOMERS, MERGES
from production.services import deliver_outbound, scheduler
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

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


db = care_db("scheduler")


async def _state(pool: Pool, tenant: str, customer: UUID) -> str:
    async with pool.acquire() as conn:
        return str((await care_state.get_current_state(conn, tenant, customer)).state)


async def test_silence_moves_engaged_to_at_risk_then_dormant_one_step_a_sweep(
    db: tuple[Settings, Pool]
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings)
    quiet, recent = (await customer_writes(pool, tenant), await customer_writes(pool, tenant))
    await set_care(pool, tenant, quiet.customer_id, care_state="engaged",
                   last_signal_at=NOON - timedelta(days=60))
    await set_care(pool, tenant, recent.customer_id, care_state="engaged",
                   last_signal_at=NOON - timedelta(days=3))
    assert await scheduler.sweep_silence(pool=pool, settings=ceiling, now=NOON) >= 1
    assert await _state(pool, tenant, quiet.customer_id) == "at_risk"
    await scheduler.sweep_silence(pool=pool, settings=ceiling, now=NOON)
    assert await _state(pool, tenant, quiet.customer_id) == "dormant"
    await scheduler.sweep_silence(pool=pool, settings=ceiling, now=NOON)
    assert await _state(pool, tenant, quiet.customer_id) == "dormant"  # nothing decays further
    assert await _state(pool, tenant, recent.customer_id) == "engaged"
    async with pool.acquire() as conn:
        history = await conn.fetch(
            "SELECT from_state, to_state, reason FROM customer_care_state_history "
            "WHERE tenant_id = $1 AND entity_id = $2 ORDER BY id", tenant, quiet.customer_id)
    assert [(h["from_state"], h["to_state"]) for h in history] == [
        ("engaged", "at_risk"), ("at_risk", "dormant")]
    assert all("no signal for 60.0 days" in h["reason"] for h in history)


async def test_in_shadow_mode_a_silence_is_proposed_once_not_at_every_sweep(
    db: tuple[Settings, Pool]
) -> None:
    settings, pool = db
    tenant = await new_tenant(pool)
    shadow = with_care(settings, CareSettings(autonomy_enabled=True, shadow_mode=True))
    silent = await customer_writes(pool, tenant)
    await set_care(pool, tenant, silent.customer_id, care_state="active",
                   last_signal_at=NOON - timedelta(days=20))
    for _ in range(3):
        await scheduler.sweep_silence(pool=pool, settings=shadow, now=NOON)
    async with pool.acquire() as conn:
        proposals = await conn.fetch(
            "SELECT payload FROM care_audit WHERE tenant_id = $1 AND customer_id = $2 "
            "AND event_type = 'proposed_state_change'", tenant, silent.customer_id)
    assert [p["payload"] for p in proposals] == [
        {"from": "active", "to": "at_risk", "applied": False}]
    assert await _state(pool, tenant, silent.customer_id) == "active"


async def test_an_expired_draft_is_never_sent_and_the_expiry_is_audited(
    db: tuple[Settings, Pool]
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, mode="approve")
    reply = await submit(pool, ceiling, await customer_writes(pool, tenant), now=NOON)
    expiry = NOON + PROPOSAL_LIFETIME
    await scheduler.expire_proposals(pool=pool, now=expiry)  # its last moment: still pending
    assert (await fate(pool, tenant, reply)).status == "pending_approval"
    assert await scheduler.expire_proposals(pool=pool, now=expiry + timedelta(seconds=1)) >= 1
    done = await fate(pool, tenant, reply)
    assert (done.status, done.released) == ("expired", 0)
    assert done.proposal is not None and done.proposal["status"] == "expired"
    assert (done.audit[-1]["event_type"], done.audit[-1]["actor"], done.clause) == (
        "blocked_action", "fte-scheduler", "INBOX.expired")


async def test_the_digest_of_a_day_counts_what_autopilot_did_and_held(
    db: tuple[Settings, Pool]
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, max_per_customer=1,
                                          timezone="Europe/Berlin")
    first = await customer_writes(pool, tenant)
    await submit(pool, ceiling, first, now=NOON)
    await submit(pool, ceiling, await customer_writes(pool, tenant, email=first.email),
                 now=NOON + timedelta(minutes=1))
    today = NOON.astimezone(ZoneInfo("Europe/Berlin")).date()
    digest = await scheduler.build_digest(pool=pool, tenant_id=tenant, day=today,
                                          zone="Europe/Berlin")
    assert digest["autopilot_executed"] == {"send_reply": 1}
    assert digest["held"] == {"PR10.customer_daily_max": 1}
    assert digest["pending_proposals"] == 1
    assert [a["action"] for a in digest["actions"]] == ["send_reply"]
    empty = await scheduler.build_digest(pool=pool, tenant_id=tenant, day=today - timedelta(days=1),
                                         zone="Europe/Berlin")
    assert (empty["autopilot_executed"], empty["actions"]) == ({}, [])


async def test_a_schedules_tenant_runs_once_a_day_after_its_digest_within_its_budget(
    db: tuple[Settings, Pool]
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, mode="schedules",
                                          schedules_opt_in=True, daily_budget=2)
    at_risk = [await customer_writes(pool, tenant) for _ in range(3)]
    opted_out = await customer_writes(pool, tenant)
    for person in at_risk:
        await set_care(pool, tenant, person.customer_id, care_state="at_risk",
                       hands_off_enabled=True, last_signal_at=NOON - timedelta(days=20))
    await set_care(pool, tenant, opted_out.customer_id, care_state="at_risk",
                   hands_off_enabled=False, last_signal_at=NOON - timedelta(days=30))
    early = NOON.replace(hour=settings.scheduler.run_hour - 1)
    before = await scheduler.daily_work(pool=pool, settings=ceiling, now=early)
    assert before.runs == 0 and before.digests >= 1  # the digest comes first, the run waits
    work = await scheduler.daily_work(pool=pool, settings=ceiling, now=NOON)
    assert work.runs >= 1
    async with pool.acquire() as conn:
        tasks = await conn.fetch("SELECT customer_id, kind, created_by FROM care_tasks "
                                 "WHERE tenant_id = $1", tenant)
        run = await conn.fetchrow("SELECT summary FROM care_schedule_runs WHERE tenant_id = $1",
                                  tenant)
        digest_days = await conn.fetch("SELECT day FROM care_digests WHERE tenant_id = $1",
                                       tenant)
    assert len(tasks) == 2  # the budget of 2 a day, whoever is next
    assert {t["customer_id"] for t in tasks} <= {p.customer_id for p in at_risk}
    assert {(t["kind"], t["created_by"]) for t in tasks} == {("follow_up_task", "fte-agent")}
    assert run["summary"]["tasks"] == 2
    assert run["summary"]["outcomes"]["PR10.tenant_daily_budget"] == 1
    assert [d["day"] for d in digest_days] == [date(2026, 12, 1)]
    again = await scheduler.daily_work(pool=pool, settings=ceiling, now=NOON + timedelta(hours=2))
    assert again.runs == 0  # the day's run is taken
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM care_tasks WHERE tenant_id = $1",
                                   tenant) == 2


async def test_an_autopilot_tenant_gets_digests_but_no_timed_run(
    db: tuple[Settings, Pool]
) -> None:
    settings, pool = db
    tenant = await new_tenant(pool, mode="autopilot")
    person = await customer_writes(pool, tenant)
    await set_care(pool, tenant, person.customer_id, care_state="at_risk",
                   hands_off_enabled=True, last_signal_at=NOON - timedelta(days=20))
    await scheduler.daily_work(pool=pool, settings=with_care(settings, allowing(tenant)), now=NOON)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM care_digests WHERE tenant_id = $1",
                                   tenant) == 1
        assert await conn.fetchval("SELECT count(*) FROM care_tasks WHERE tenant_id = $1",
                                   tenant) == 0


async def _approved_and_delivered(pool: Pool, settings: Settings, tenant: str,
                                  email: str | None = None) -> tuple[UUID, UUID]:
    """An approve-mode reply a person approved at NOON, delivered a minute later; return
    (customer, proposal)."""
    inbound = await customer_writes(pool, tenant, email=email)
    reply = await submit(pool, settings, inbound, now=NOON)
    proposal = await proposal_of(pool, tenant, reply)
    await care_inbox.approve(pool=pool, settings=settings, tenant_id=tenant, proposal_id=proposal,
                             operator="ada", now=NOON)
    async with pool.acquire() as conn:
        await conn.execute("UPDATE messages SET status = 'delivered', delivered_at = $2 "
                           "WHERE id = $1", reply, NOON + timedelta(minutes=1))
    return inbound.customer_id, proposal


async def _labels(pool: Pool, proposal: UUID) -> tuple[str | None, str | None, bool]:
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT outcome, response_outcome, responded_at IS NOT NULL "
                                  "AS responded FROM care_proposals WHERE id = $1", proposal)
    return row["outcome"], row["response_outcome"], row["responded"]


async def test_approved_replies_are_labelled_by_what_the_customer_did_next(
    db: tuple[Settings, Pool]
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, mode="approve")
    calm, answered = await _approved_and_delivered(pool, ceiling, tenant)
    angry, upset = await _approved_and_delivered(pool, ceiling, tenant)
    _, ignored = await _approved_and_delivered(pool, ceiling, tenant)
    now = NOON + timedelta(hours=1)
    async with pool.acquire() as conn:
        assert await inbox.note_response(conn, tenant, calm, at=now, negative=False) == 1
        assert await inbox.note_response(conn, tenant, angry, at=now, negative=True) == 1
        assert await inbox.note_response(conn, tenant, angry, at=now, negative=True) == 0
    assert await _labels(pool, answered) == ("EXECUTION_SUCCEEDED", None, True)
    assert await _labels(pool, upset) == ("EXECUTION_SUCCEEDED", "NEGATIVE_RESPONSE", True)
    assert await _labels(pool, ignored) == ("EXECUTION_SUCCEEDED", None, False)
    later = now + timedelta(days=settings.scheduler.no_response_after_days, seconds=1)
    assert await scheduler.label_no_response(pool=pool, settings=ceiling, now=later) >= 1
    assert await _labels(pool, ignored) == ("EXECUTION_SUCCEEDED", "NO_RESPONSE", False)
    assert await _labels(pool, answered) == ("EXECUTION_SUCCEEDED", None, True)


class _Refusing:
    channel = "email"

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        return DeliveryReceipt(status="failed", error="550 mailbox unknown")


async def test_an_approved_reply_that_cannot_be_delivered_is_execution_failed(
    db: tuple[Settings, Pool]
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, mode="approve")
    reply = await submit(pool, ceiling, await customer_writes(pool, tenant), now=NOON)
    proposal = await proposal_of(pool, tenant, reply)
    await care_inbox.approve(pool=pool, settings=ceiling, tenant_id=tenant, proposal_id=proposal,
                             operator="ada", now=NOON)
    notice = OutboundNotice(tenant_id=tenant, message_id=reply, channel="email")
    status = await deliver_outbound.deliver(pool=pool, adapters={"email": _Refusing()},
                                            notice=notice, now=NOON)
    assert status == "failed"
    assert (await _labels(pool, proposal))[0] == "EXECUTION_FAILED"
    assert (await fate(pool, tenant, reply)).status == "delivery_failed"


async def test_what_waits_per_tenant_is_published_for_the_dashboard(
    db: tuple[Settings, Pool]
) -> None:
    from prometheus_client import REGISTRY

    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, mode="approve")
    for _ in range(2):
        await submit(pool, ceiling, await customer_writes(pool, tenant), now=NOON)
    await scheduler.observe_waiting(pool=pool, now=NOON + timedelta(hours=5))

    def value(kind: str) -> float | None:
        return REGISTRY.get_sample_value(CARE_WAITING.name, {"tenant": tenant, "kind": kind})

    assert (value("pending"), value("deferred")) == (2.0, 0.0)
    # Both drafts were written at noon: at five past, the oldest is five hours old.
    assert REGISTRY.get_sample_value(INBOX_OLDEST.name, {"tenant": tenant}) == 5 * 3600
    assert REGISTRY.get_sample_value(KILL_SWITCH.name, {"tenant": tenant}) == 0
    # No customer of this tenant is known on two channels, none was merged: every status is 0.
    assert REGISTRY.get_sample_value(LINKED_CUSTOMERS.name, {"tenant": tenant}) == 0
    for status in ("merged", "candidate", "dismissed"):
        assert REGISTRY.get_sample_value(MERGES.name, {"tenant": tenant, "status": status}) == 0
    async with pool.acquire() as conn:
        await admin.set_kill_switch(conn, tenant, engaged=True, by="ada", now=NOON)
    await scheduler.observe_waiting(pool=pool, now=NOON)
    assert REGISTRY.get_sample_value(KILL_SWITCH.name, {"tenant": tenant}) == 1
    assert REGISTRY.get_sample_value(INBOX_OLDEST.name, {"tenant": tenant}) == 0


async def test_a_deferred_reply_that_cannot_be_released_does_not_hold_the_others(
    db: tuple[Settings, Pool]
) -> None:
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings, min_interval_s=60)
    first = await customer_writes(pool, tenant)
    await submit(pool, ceiling, first, now=NOON)
    good = await submit(pool, ceiling, await customer_writes(pool, tenant, email=first.email),
                        now=NOON)
    other, other_ceiling = await acting_tenant(pool, settings, min_interval_s=60)
    second = await customer_writes(pool, other)
    await submit(pool, other_ceiling, second, now=NOON)
    broken = await submit(pool, other_ceiling,
                          await customer_writes(pool, other, email=second.email), now=NOON)
    async with pool.acquire() as conn:  # a stored action the executor cannot read any more
        await conn.execute("UPDATE messages SET metadata = metadata - 'action' WHERE id = $1",
                           broken)
    both = with_care(settings, allowing(tenant, other))
    # A minute later the minimum interval has passed: the good reply may go.
    released = await scheduler.release_due(pool=pool, settings=both,
                                           now=NOON + timedelta(minutes=1))
    assert released["failed"] >= 1 and released["queued"] >= 1
    assert (await fate(pool, tenant, good)).status == "queued"
    assert (await fate(pool, other, broken)).status == "deferred"
