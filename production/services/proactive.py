"""The proactive layer's looks (issue 19): gather customers' facts in batches, run the trigger
registry, store the firings and the health score, and plan each customer's next look.

Two passes of `fte scheduler` call it, each with the pass's `now`:
* the sweep (`sweep`): every tenant's customers the PerceptionScheduler says are due, at most
  FTE_PROACTIVE_CAP_PER_TENANT a tenant and pass, the longest overdue first;
* the signal pass (`sweep(..., signalled_only=True)`): the customers something just happened
  to. The product marks them where it records the signal (`signal`): an inbound message with
  its reply, a C.A.R.E. state change, a rejected proposal. The mark is one upsert in the
  signal's own transaction; the look runs seconds later, off the reply's path.

A look whose facts' fingerprint is the stored one recomputes nothing (`Assessor.assess`). Two
sweeps at once never look at the same customer (a claim is a lease, skipping locked rows), and
even if they did, a firing is stored once per customer, trigger and window.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import structlog

from production.config import Settings
from production.database.pool import Connection, Pool
from production.database.queries import customer_health, perception, proactive, proactive_facts
from production.database.queries.customer_health import HealthRow
from production.database.queries.perception import LookResult
from production.domain.proactive import predictions
from production.domain.proactive.assessment import Assessment, Assessor, Stored
from production.domain.proactive.facts import CustomerFacts

log = structlog.get_logger(__name__)


@dataclass
class SweepReport:
    tenants: int = 0
    enrolled: int = 0
    looked: int = 0
    recomputed: int = 0
    unchanged: int = 0
    firings: int = 0
    by_trigger: Counter[str] = field(default_factory=Counter)

    def add(self, other: SweepReport) -> None:
        for name in ("enrolled", "looked", "recomputed", "unchanged", "firings"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.by_trigger.update(other.by_trigger)


async def signal(conn: Connection, *, tenant_id: str, customer_id: UUID, at: datetime) -> None:
    """Record, in the caller's transaction, that something happened to the customer at `at`:
    the signal pass looks at them next."""
    await perception.mark_signal(conn, tenant_id=tenant_id, customer_id=customer_id, at=at)


def _health_row(assessment: Assessment, now: datetime) -> HealthRow:
    assert assessment.health is not None and assessment.prediction is not None
    scored, predicted = assessment.health, assessment.prediction
    return HealthRow(customer_id=assessment.customer_id, score=scored.score, band=scored.band,
                     trend=assessment.trend, breakdown=scored.breakdown(),
                     engagement=round(predicted.engagement, 4),
                     churn_risk=round(predicted.churn_risk, 4),
                     churn_band=predicted.churn_band, version=predictions.VERSION,
                     computed_at=now)


async def _store(conn: Connection, *, tenant_id: str, assessments: list[Assessment],
                 now: datetime) -> SweepReport:
    report = SweepReport()
    recomputed = [a for a in assessments if a.recomputed]
    firings = [firing for a in recomputed for firing in a.firings]
    new = await proactive.insert_firings(conn, tenant_id=tenant_id, firings=firings, now=now)
    report.firings = len(new)
    report.by_trigger.update(trigger for _, trigger in new)
    await customer_health.save(
        conn, tenant_id=tenant_id, rows=[_health_row(a, now) for a in recomputed],
        changed=[a.customer_id for a in recomputed if a.changed_score])
    await perception.save_looks(conn, tenant_id=tenant_id, now=now, looks=[
        LookResult(customer_id=a.customer_id, next_look_at=a.look.next_look_at,
                   heat=str(a.look.heat), facts_hash=a.facts_hash, stale_at=a.stale_at,
                   evaluated=a.recomputed) for a in assessments])
    report.recomputed = len(recomputed)
    report.unchanged = len(assessments) - len(recomputed)
    return report


async def look_at(*, conn: Connection, assessor: Assessor, tenant_id: str,
                  claimed: list[perception.Claimed], now: datetime) -> SweepReport:
    """Look at these claimed customers of the tenant at `now`, in the caller's transaction."""
    facts = await proactive_facts.gather(conn, tenant_id=tenant_id,
                                         customer_ids=[c.customer_id for c in claimed], now=now)
    stored = {c.customer_id: Stored(facts_hash=c.facts_hash, stale_at=c.stale_at,
                                    evaluated_at=c.evaluated_at) for c in claimed}
    assessments = [assessor.assess(f, now, stored[f.customer_id]) for f in facts]
    report = await _store(conn, tenant_id=tenant_id, assessments=assessments, now=now)
    report.looked = len(assessments)
    return report


# Where each tenant's last capped sweep stopped: the next starts there and wraps around, so
# under the cap every due customer gets its turn (this process's memory; a replica has its own).
_RESUME_AFTER: dict[str, UUID] = {}


async def sweep_tenant(*, pool: Pool, settings: Settings, assessor: Assessor, tenant_id: str,
                       now: datetime, signalled_only: bool = False,
                       cap: int | None = None) -> SweepReport:
    """Look at the tenant's customers due at `now` (or only the signalled ones), batch by
    batch, up to the cap. FTE_PROACTIVE_PARALLEL_BATCHES batches run at once, each on its own
    connection, so one's queries overlap another's scoring (their claims never overlap)."""
    cfg = settings.proactive
    lease = timedelta(seconds=cfg.lease_s)
    remaining = cap if cap is not None else assessor.rules.perception.cap_per_tenant
    report = SweepReport()
    if not signalled_only:
        async with pool.acquire() as conn:
            report.enrolled = await perception.enroll_new(conn, tenant_id=tenant_id)
    start = None if signalled_only else _RESUME_AFTER.pop(tenant_id, None)
    # The id ranges to walk: from where the last pass stopped to the end, then the beginning.
    ranges = [(start or perception.LOWEST, perception.HIGHEST)]
    if start is not None:
        ranges.append((perception.LOWEST, start))
    claiming = asyncio.Lock()

    async def next_batch(conn: Connection) -> list[perception.Claimed]:
        nonlocal remaining
        async with claiming:  # one claim at a time: the cursor moves in order
            while remaining > 0 and ranges:
                take = min(cfg.batch_size, remaining)
                if signalled_only:
                    claimed = await perception.claim_signalled(
                        conn, tenant_id=tenant_id, now=now, limit=take, lease=lease)
                else:
                    after, until = ranges[0]
                    claimed = await perception.claim_due(conn, tenant_id=tenant_id, now=now,
                                                         limit=take, lease=lease, after=after,
                                                         until=until)
                remaining -= len(claimed)
                if len(claimed) < take:
                    ranges.pop(0)  # this range has no more due customers
                elif not signalled_only:
                    ranges[0] = (claimed[-1].customer_id, ranges[0][1])
                if claimed:
                    if remaining <= 0 and not signalled_only:
                        _RESUME_AFTER[tenant_id] = claimed[-1].customer_id
                    return claimed
                if signalled_only:
                    break
            return []

    async def batches() -> None:
        while True:
            async with pool.acquire() as conn:
                claimed = await next_batch(conn)
                if not claimed:
                    return
                async with conn.transaction():
                    report.add(await look_at(conn=conn, assessor=assessor, tenant_id=tenant_id,
                                             claimed=claimed, now=now))

    await asyncio.gather(*(batches() for _ in range(cfg.parallel_batches)))
    return report


async def sweep(*, pool: Pool, settings: Settings, now: datetime, signalled_only: bool = False,
                cap: int | None = None, assessor: Assessor | None = None) -> SweepReport:
    """Run one pass over every tenant at `now`; return what it did."""
    assessor = assessor or Assessor(settings.proactive.rules())
    async with pool.acquire() as conn:
        tenants = await perception.tenant_ids(conn)
    report = SweepReport(tenants=len(tenants))
    for tenant_id in tenants:
        report.add(await sweep_tenant(pool=pool, settings=settings, assessor=assessor,
                                      tenant_id=tenant_id, now=now,
                                      signalled_only=signalled_only, cap=cap))
    if report.looked:
        log.info("proactive_sweep", signalled_only=signalled_only, looked=report.looked,
                 recomputed=report.recomputed, firings=report.firings,
                 by_trigger=dict(report.by_trigger))
    return report


async def assess_one(*, conn: Connection, settings: Settings, tenant_id: str,
                     customer_id: UUID, now: datetime) -> tuple[CustomerFacts, Assessment] | None:
    """Return the customer's facts and a fresh assessment at `now`, storing nothing (the
    admin API's view of a customer no sweep has scored yet)."""
    found = await proactive_facts.gather(conn, tenant_id=tenant_id, customer_ids=[customer_id],
                                         now=now)
    if not found:
        return None
    assessment = Assessor(settings.proactive.rules()).assess(found[0], now, Stored())
    return found[0], assessment
