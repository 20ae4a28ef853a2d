"""`fte scheduler`'s use cases: what happens because time passed, never because a customer wrote.

* Deferred replies whose time has come go back to the executor, which reads every gate fresh
  (a kill switch engaged overnight holds them; quiet hours that still last defer them again).
* Pending proposals past their expiry are marked expired; their drafts are never sent.
* Silence moves customers to at_risk and then dormant (the state engine's rules), one step a
  sweep, or is proposed only, in shadow mode.
* Approved replies nobody answered within FTE_SCHEDULER_NO_RESPONSE_AFTER_DAYS are labelled
  NO_RESPONSE (OutcomeTaxonomyV1).
* Trigger firings become suggestions (services/suggestions/pipeline.py: spam rules, the cost
  gate, the proposer, the policy), and suggestions nobody decided expire.
* Every tenant whose autopilot may act gets a daily digest of the previous local day: what the
  FTE did, what it held and why, what people approved.
* A schedules-mode tenant (explicit opt-in, a daily budget) gets one timed run a local day, from
  FTE_SCHEDULER_RUN_HOUR: an internal follow-up task for each customer at risk, through the
  executor (so its budget, kill switches, hands-off and escalations hold). The run waits for
  the digest of the day before: no run without the summary of what autopilot last did.
* The proactive layer (issue 19, `services/proactive.py`): every few seconds the customers a
  signal marked, and every FTE_PROACTIVE_SWEEP_INTERVAL_S those the PerceptionScheduler says
  are due: their trigger firings stored once per window, their health score recomputed.

Every pass is safe to run in several schedulers at once: claims skip locked rows, digests and
runs are unique per tenant and day, and tasks per customer, trigger and day.

Every pass takes its `now` from `run_scheduler`, which reads the clock once per pass: what is
due, what the day is, and the instant on every row the pass writes all come from it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import structlog

from production import clock
from production.care import executor, throttle
from production.channels.base import ChannelAdapter
from production.config import Settings
from production.database.pool import Pool
from production.database.queries import (
    admin,
    care_schedule,
    identity,
    inbox,
    ops_alerts,
    replies,
)
from production.domain.care import state_engine
from production.domain.care.policy import AutonomyMode
from production.metrics import (
    CARE_WAITING,
    INBOX_OLDEST,
    KILL_SWITCH,
    LINKED_CUSTOMERS,
    MERGES,
)
from production.services import digest_mail, ops_health, proactive
from production.services.suggestions import pipeline as suggestion_pipeline

log = structlog.get_logger(__name__)

ACTOR = "fte-scheduler"
BATCH = 200
DIGEST_EXAMPLES = 50


async def release_due(*, pool: Pool, settings: Settings, now: datetime,
                      limit: int = BATCH) -> Counter[str]:
    """Ask the executor again for every deferred reply whose time has come by `now`; return how
    many became each status."""
    released: Counter[str] = Counter()
    async with pool.acquire() as conn, conn.transaction():
        for row in await replies.claim_deferred(conn, now=now, limit=limit):
            try:
                async with conn.transaction():  # one reply that fails does not hold the rest
                    released[await executor.release_deferred(conn=conn, settings=settings,
                                                             deferred=row, now=now)] += 1
            except Exception as exc:  # it stays deferred and due: the next pass tries again
                log.warning("deferred_release_failed", message_id=str(row.id),
                            error=repr(exc)[:300])
                released["failed"] += 1
    if released:
        log.info("deferred_replies_released", **released)
    return released


async def expire_proposals(*, pool: Pool, now: datetime, limit: int = BATCH) -> int:
    """Expire the pending proposals past their time at `now` (audited); return how many."""
    async with pool.acquire() as conn, conn.transaction():
        expired = await inbox.claim_expired(conn, now=now, limit=limit)
        for row in expired:
            await admin.append_audit(
                conn, row.tenant_id, event_type="blocked_action", actor=ACTOR,
                reason=f"expired at {row.expires_at.isoformat()} before anyone decided",
                clause="INBOX.expired", customer_id=row.customer_id,
                message_id=row.message_id, now=now,
                payload={"action": row.action, "proposal_id": str(row.id)})
    if expired:
        log.info("care_proposals_expired", count=len(expired))
    return len(expired)


async def sweep_silence(*, pool: Pool, settings: Settings, now: datetime,
                        limit: int = BATCH) -> int:
    """Apply (or propose) what silence does to the customers it applies to; return how many
    transitions were found."""
    moved = 0
    async with pool.acquire() as conn, conn.transaction():
        rows = await care_schedule.silent_customers(
            conn, at_risk_before=now - state_engine.AT_RISK_AFTER,
            dormant_before=now - state_engine.DORMANT_AFTER, limit=limit)
        for row in rows:
            transition = await executor.track_silence(
                conn=conn, settings=settings, tenant_id=row.tenant_id,
                customer_id=row.customer_id, now=now)
            if transition is not None:
                moved += 1
                await proactive.signal(conn, tenant_id=row.tenant_id,
                                       customer_id=row.customer_id, at=now)
    return moved


async def label_no_response(*, pool: Pool, settings: Settings, now: datetime) -> int:
    cutoff = now - timedelta(days=settings.scheduler.no_response_after_days)
    async with pool.acquire() as conn:
        return await inbox.mark_no_response(conn, delivered_before=cutoff, limit=BATCH)


def _local_day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    tz = throttle.zone(zone)
    start = datetime.combine(day, time(12), tzinfo=tz)  # noon: never skipped by DST
    return (throttle.local_day_start(start, zone), throttle.next_local_day_start(start, zone))


async def build_digest(*, pool: Pool, tenant_id: str, day: date, zone: str) -> dict[str, Any]:
    """Return the digest of the tenant's local `day`: counts of what the FTE executed, held,
    deferred and blocked (by clause), what people approved, the FTE's executed actions and the
    alerts open at some moment of the day."""
    start, end = _local_day_bounds(day, zone)
    async with pool.acquire() as conn:
        counts = await care_schedule.activity_counts(conn, tenant_id, start, end)
        actions = await care_schedule.executed_actions(conn, tenant_id, start, end,
                                                       limit=DIGEST_EXAMPLES)
        pending = await care_schedule.pending_proposals(conn, tenant_id)
        alerts = await ops_alerts.alerts_during(conn, tenant_id, start, end)
    sections: dict[str, Counter[str]] = {name: Counter() for name in (
        "autopilot_executed", "approved_by_people", "held", "deferred", "blocked",
        "escalations_opened", "state_changes", "control_plane_changes")}
    for row in counts:
        event, clause, action, n = row.event_type, row.clause, row.action, row.n
        if event == "executed_action":
            if clause == "INBOX.approved":
                sections["approved_by_people"][action] += n
            elif clause.startswith("ADMIN."):
                sections["control_plane_changes"][clause] += n
            else:
                sections["autopilot_executed"][action or "other"] += n
        elif event == "would_execute_action":
            sections["deferred" if clause in _DEFER_CLAUSES else "held"][clause] += n
        elif event == "blocked_action":
            sections["blocked"][clause] += n
        elif event == "would_escalate":
            sections["escalations_opened"][clause] += n
        else:
            sections["state_changes"][clause] += n
    return {
        "day": day.isoformat(), "timezone": zone, "from": start.isoformat(),
        "until": end.isoformat(),
        **{name: dict(counter) for name, counter in sections.items()},
        "pending_proposals": pending,
        "actions": [{"at": row.created_at.isoformat(), "action": row.action,
                     "customer_id": str(row.customer_id), "clause": row.policy_clause}
                    for row in actions],
        "alerts": [{key: value.isoformat() if isinstance(value, datetime) else value
                    for key, value in ops_health.alert_view(row).items()} for row in alerts],
    }


_DEFER_CLAUSES = frozenset({"PR10.quiet_hours", "PR10.min_interval", "PR10.throttle_deferred"})


@dataclass(frozen=True)
class DailyWork:
    digests: int = 0
    runs: int = 0
    tasks: int = 0


async def daily_work(*, pool: Pool, settings: Settings, now: datetime,
                     mailer: ChannelAdapter | None = None) -> DailyWork:
    """Write the missing digests of yesterday (and mail them with `mailer`, the email
    channel) and start today's timed runs that are due."""
    digests = runs = tasks = 0
    async with pool.acquire() as conn:
        tenants = await care_schedule.digest_tenants(conn)
    for tenant in tenants:
        tenant_id, zone = tenant.tenant_id, tenant.timezone
        local = now.astimezone(throttle.zone(zone))
        yesterday = local.date() - timedelta(days=1)
        async with pool.acquire() as conn:
            have_digest = await care_schedule.digest_exists(conn, tenant_id, yesterday)
        if not have_digest:
            summary = await build_digest(pool=pool, tenant_id=tenant_id, day=yesterday, zone=zone)
            async with pool.acquire() as conn:
                have_digest = True
                digests += await care_schedule.save_digest(conn, tenant_id, yesterday, summary,
                                                           now=now)
        if mailer is not None:
            await digest_mail.mail_digests(pool=pool, mailer=mailer, tenant_id=tenant_id, now=now)
        if (tenant.autonomy_mode == AutonomyMode.SCHEDULES and tenant.schedules_opt_in
                and have_digest and local.hour >= settings.scheduler.run_hour):
            created = await timed_run(pool=pool, settings=settings, tenant_id=tenant_id,
                                      day=local.date(), now=now)
            if created is not None:
                runs += 1
                tasks += created
    return DailyWork(digests, runs, tasks)


async def timed_run(*, pool: Pool, settings: Settings, tenant_id: str, day: date,
                    now: datetime) -> int | None:
    """Run the tenant's timed run of `day` once: a follow-up task per customer at risk, each
    through the executor; stop at the first daily limit. Return the tasks created, or None when
    the run of that day had been taken already."""
    async with pool.acquire() as conn, conn.transaction():
        if not await care_schedule.claim_run(conn, tenant_id, day, now=now):
            return None
        outcomes: Counter[str] = Counter()
        for customer_id in await care_schedule.at_risk_customers(conn, tenant_id, limit=BATCH):
            verdict = await executor.create_follow_up(
                conn=conn, settings=settings, tenant_id=tenant_id, customer_id=customer_id,
                title="Check in with a customer at risk",
                body="No message from this customer for two weeks or more: review their "
                     "history and decide whether someone should reach out.",
                dedupe_key=f"at_risk:{customer_id}:{day.isoformat()}", now=now)
            outcomes[verdict.gate.clause] += 1
            if verdict.gate.clause == "PR10.tenant_daily_budget":
                break  # the budget is spent: the rest waits for tomorrow's run
        created = outcomes["PR7.all_gates"]
        await care_schedule.finish_run(conn, tenant_id, day,
                                       {"outcomes": dict(outcomes), "tasks": created}, now=now)
    log.info("care_timed_run", tenant_id=tenant_id, day=day.isoformat(), tasks=created,
             outcomes=dict(outcomes))
    return created


async def observe_waiting(*, pool: Pool, now: datetime) -> None:
    """Publish, per tenant, what waits (fte_care_waiting) and the age of the oldest draft at
    `now` (an inbox nobody empties, or replies piling up behind quiet hours, shows on the
    operators' dashboard), whether autonomy is switched off, and how many customers are
    recognized across channels or merged."""
    async with pool.acquire() as conn:
        rows = await care_schedule.waiting(conn)
        recognized = await identity.recognition_counts(conn)
    for row in rows:
        tenant = row.tenant_id
        CARE_WAITING.labels(tenant, "pending").set(row.pending)
        CARE_WAITING.labels(tenant, "deferred").set(row.deferred)
        oldest = row.oldest_pending_at
        INBOX_OLDEST.labels(tenant).set(
            0 if oldest is None else max(0.0, (now - oldest).total_seconds()))
        KILL_SWITCH.labels(tenant).set(1 if row.kill_switch else 0)
    merges: dict[str, dict[str, int]] = {}
    for count in recognized:
        LINKED_CUSTOMERS.labels(count.tenant_id).set(count.linked)
        tenant_merges = merges.setdefault(count.tenant_id, {})  # a tenant without one reads 0
        if count.status is not None:
            tenant_merges[count.status] = count.merges
    for tenant, counts in merges.items():  # a status no merge has any more reads 0
        for status in identity.MERGE_STATUSES:
            MERGES.labels(tenant, status).set(counts.get(status, 0))


async def _every(interval_s: float, stopping: asyncio.Event, what: str,
                 work: Callable[[], Awaitable[object]]) -> None:
    while not stopping.is_set():
        try:
            await work()
        except Exception as exc:  # a pass that fails is retried at the next interval
            log.warning("scheduler_pass_failed", what=what, error=repr(exc)[:300])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval_s)


async def run_scheduler(*, pool: Pool, settings: Settings, stopping: asyncio.Event,
                        mailer: ChannelAdapter | None = None,
                        gate: suggestion_pipeline.Gate = suggestion_pipeline.allow_without_model,
                        settle: suggestion_pipeline.Settle | None = None) -> None:
    """Run every pass at its cadence until stopped; digests go out through `mailer`; the
    suggestion pass asks `gate` (the DecisionCostGate) before any proposal."""
    cfg = settings.scheduler
    proposer = suggestion_pipeline.proposer_of(settings)

    async def suggest() -> None:  # trigger firings -> suggestions; stale ones expire
        now = clock.now()
        await suggestion_pipeline.run_pass(pool=pool, settings=settings, gate=gate,
                                           proposer=proposer, now=now, settle=settle)
        await suggestion_pipeline.expire(pool=pool, now=now)

    async def often() -> None:
        now = clock.now()
        await release_due(pool=pool, settings=settings, now=now)
        await expire_proposals(pool=pool, now=now)

    async def housekeeping() -> None:
        now = clock.now()
        await observe_waiting(pool=pool, now=now)  # first: a pass that fails still reports
        await sweep_silence(pool=pool, settings=settings, now=now)
        await label_no_response(pool=pool, settings=settings, now=now)
        await daily_work(pool=pool, settings=settings, now=now, mailer=mailer)

    async def thresholds() -> None:
        await ops_health.check_all(pool=pool, settings=settings, now=clock.now())

    # The proactive layer (issue 19): customers something just happened to, and the sweep of
    # those the PerceptionScheduler says are due.
    async def proactive_signals() -> None:
        await proactive.sweep(pool=pool, settings=settings, now=clock.now(), signalled_only=True)

    async def proactive_sweep() -> None:
        await proactive.sweep(pool=pool, settings=settings, now=clock.now())

    await asyncio.gather(_every(cfg.interval_s, stopping, "deferred_and_expiry", often),
                         _every(cfg.housekeeping_interval_s, stopping, "housekeeping",
                                housekeeping),
                         _every(cfg.alert_interval_s, stopping, "threshold_checks", thresholds),
                         _every(settings.suggestions.interval_s, stopping, "suggestions",
                                suggest),
                         _every(settings.proactive.signal_interval_s, stopping,
                                "proactive_signals", proactive_signals),
                         _every(settings.proactive.sweep_interval_s, stopping, "proactive_sweep",
                                proactive_sweep))
