"""GET /api/v1/admin/customers/{id}/health over real HTTP against the real PostgreSQL: the stored
score with its breakdown and history for the tenant's own key, 404 for another tenant's key
exactly as for an unknown id, and a score computed on the spot before any sweep."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

import httpx

from production.config import Settings
from production.database.pool import Pool
from production.services import admin_keys
from tests.conftest import Stack, api_alone, form, wait_for
from tests.integration.test_care_state import new_customer, new_tenant
from tests.integration.test_proactive_sweep import inbound, open_ticket, sweep

HOUR = timedelta(hours=1)


async def test_a_customers_health_is_its_tenants_alone(pool: Pool, settings: Settings,
                                                        now: datetime) -> None:
    mine, theirs = await new_tenant(pool), await new_tenant(pool)
    customer = await new_customer(pool, mine)
    keys = {}
    for tenant in (mine, theirs):
        _, keys[tenant] = await admin_keys.create_key(pool=pool, tenant_id=tenant,
                                                      role="operator", name="ops")
    async with pool.acquire() as conn:
        await inbound(conn, mine, customer, now - 3 * HOUR, sentiment=0.6)
    await sweep(pool, settings, mine, now - 2 * HOUR)
    async with pool.acquire() as conn:
        await open_ticket(conn, mine, customer, now - 241 * HOUR, priority="low")
        await conn.execute("UPDATE care_perception SET next_look_at = '-infinity'"
                           " WHERE tenant_id = $1", mine)
    await sweep(pool, settings, mine, now - HOUR)
    fresh = await new_customer(pool, mine)  # no sweep has scored it

    async with api_alone(settings) as http:
        async def get(key: str | None, customer_id: object) -> httpx.Response:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            return await http.get(f"/api/v1/admin/customers/{customer_id}/health",
                                  headers=headers)

        own = await get(keys[mine], customer)
        assert own.status_code == 200, own.text
        body = own.json()
        assert body["stored"] is True and body["customer_id"] == str(customer)
        assert [p["score"] for p in body["history"]] == [100, body["score"]]
        assert body["trend"] == body["score"] - 100 < 0 and body["band"] in ("good", "average")
        lost = [f["label"] for f in body["breakdown"] if f["points"] < f["max_points"]]
        assert lost and lost[0].startswith("\u2212")
        assert "one ticket unresolved for 10 days" in lost[0]
        assert sum(f["max_points"] for f in body["breakdown"]) == 100
        assert 0 < body["churn_risk"] < 1 and body["heat"] in ("hot", "warm", "cold")
        assert body["bands"] == {"poor_below": 40, "good_from": 70}

        for other, target in ((keys[theirs], customer), (keys[theirs], fresh),
                              (keys[mine], uuid4()), (keys[mine], "not-a-uuid")):
            refused = await get(other, target)
            assert (refused.status_code, refused.json()) == (404, {"detail": "no such customer"})
        assert (await get(None, customer)).status_code == 401
        unscored = (await get(keys[mine], fresh)).json()
    assert (unscored["customer_id"], unscored["stored"], unscored["history"]) == (
        str(fresh), False, [])
    assert 0 <= unscored["score"] <= 100 and unscored["heat"] is None


async def test_a_customers_message_is_a_signal_the_scheduler_scores_within_seconds(
        stack: Stack) -> None:
    """The whole stack: the form's message, the worker's reply (which marks the signal in its
    own transaction), the scheduler's signal pass (every 5 s), the stored score."""
    res = await stack.http.post("/api/v1/support/form", json=form())
    assert res.status_code == 201, res.text

    async def scored() -> object:
        async with stack.pool.acquire() as conn:
            return await conn.fetchrow(
                "SELECT h.score, p.looked_at FROM tickets t"
                " JOIN customer_health h ON h.tenant_id = t.tenant_id"
                "  AND h.customer_id = t.customer_id"
                " JOIN care_perception p ON p.tenant_id = t.tenant_id"
                "  AND p.customer_id = t.customer_id"
                " WHERE t.ticket_number = $1", res.json()["ticket_id"])

    row = await wait_for(scored, timeout_s=30)
    assert row is not None and 0 <= row["score"] <= 100 and row["looked_at"] is not None
