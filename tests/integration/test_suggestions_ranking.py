"""The feed learns from the tenant's own decisions (issue 20 §2), against the real PostgreSQL
and the real pipeline: a (trigger, action) its people keep dismissing sinks below one it ranked
above, with the calibrated acceptance and its evidence shown; another tenant's dismissals of the
same pair never move this tenant's order."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from production.config import Settings
from production.database.pool import Pool
from production.services.suggestions import review
from tests.integration.care_world import acting_tenant, care_db
from tests.integration.suggestion_world import customer_with_ticket, fire, run

db = care_db("suggestions_ranking")
HOUR = timedelta(hours=1)
STALLED = ("stalled_ticket", "follow_up_task")  # urgent: confidence 0.9 x urgency 1.0
MOOD = ("sentiment_falling", "internal_note")  # confidence 0.6 x urgency 0.6


async def stalled(pool: Pool, settings: Settings, tenant: str, now: datetime) -> UUID:
    """A stalled urgent ticket's suggestion for a new customer; return the customer."""
    who = await customer_with_ticket(pool, tenant, priority="urgent")
    await fire(pool, who, now=now, facts={"ticket_id": str(who.ticket_id),
                                          "priority": "urgent"})
    assert await run(pool, settings, now=now) == {"suggested": 1}
    return who.customer_id


async def pairs(pool: Pool, tenant: str, now: datetime) -> list[tuple[Any, ...]]:
    shown = await review.feed(pool=pool, tenant_id=tenant, now=now, limit=50)
    return [(s["trigger"], s["action"], s["ranking"]["evidence"]) for s in shown]


async def dismiss_stalled(pool: Pool, settings: Settings, tenant: str, now: datetime,
                          times: int) -> None:
    """`times` new stalled-ticket suggestions (each its own customer), each dismissed."""
    for _ in range(times):
        customer = await stalled(pool, settings, tenant, now)
        shown = await review.feed(pool=pool, tenant_id=tenant, now=now, limit=50)
        [target] = [s for s in shown if s["customer_id"] == customer]
        await review.dismiss(pool=pool, tenant_id=tenant, suggestion_id=target["id"],
                             operator="ana", reason="not useful", now=now)


async def test_a_dismissed_pair_sinks_and_other_tenants_never_move_it(
        db: tuple[Settings, Pool], now: datetime) -> None:
    settings, pool = db
    tenant, acting = await acting_tenant(pool, settings, mode="assist")
    stranger, acting_stranger = await acting_tenant(pool, settings, mode="assist")
    for who in (tenant, stranger):
        engine = acting if who == tenant else acting_stranger
        await stalled(pool, engine, who, now)
        mood = await customer_with_ticket(pool, who)
        await fire(pool, mood, now=now, trigger="sentiment_falling", facts={})
        assert await run(pool, engine, now=now) == {"suggested": 1}
    assert await pairs(pool, tenant, now + HOUR) == [(*STALLED, 0), (*MOOD, 0)]

    # The other tenant's people dismiss that pair again and again: this feed does not move.
    await dismiss_stalled(pool, acting_stranger, stranger, now, times=4)
    assert await pairs(pool, stranger, now + HOUR) == [(*MOOD, 0), (*STALLED, 4)]
    assert await pairs(pool, tenant, now + HOUR) == [(*STALLED, 0), (*MOOD, 0)]

    # This tenant's own dismissals: the pair sinks, its acceptance and evidence shown.
    await dismiss_stalled(pool, acting, tenant, now, times=4)
    assert await pairs(pool, tenant, now + HOUR) == [(*MOOD, 0), (*STALLED, 4)]
    [mood_card, sunk] = await review.feed(pool=pool, tenant_id=tenant, now=now + HOUR,
                                          limit=50)
    assert sunk["ranking"]["acceptance"] == pytest.approx(2 * 0.9 / (2 + 4), abs=1e-3)
    assert sunk["ranking"]["unranked_score"] == 0.9 > mood_card["score"] > sunk["score"]
    one = await review.one(pool=pool, tenant_id=tenant, suggestion_id=sunk["id"],
                           now=now + HOUR)
    assert one["ranking"]["evidence"] == 4 and one["score"] == sunk["score"]
