"""The operators' view from the database (issue 17 §4), on real data: support requests through
the whole stack (API, relay, broker, worker and its agent, dispatcher), then the channel metrics
and the series over HTTP with operator keys, the threshold checks recording their alerts, and
the daily digest mailed to the operator address through the email channel (the sandbox here).

The module has a database of its own, so every count is exact. Tenant B has data of its own,
which A never sees counted, and the other way round.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from production import bootstrap, clock
from production.channels.sandbox import SandboxAdapter
from production.config import Settings
from production.database.pool import Pool, create_pool
from production.local_stack import EmbeddedPostgres, LocalBroker
from production.services import admin_keys, digest_mail, local_sign_in, ops_health, scheduler
from tests.conftest import Stack, form, isolated_settings, running_stack, wait_for
from tests.fakes.gmail_api import FakeGmail

B = "tenant-ops-b"
METRICS = "/api/v1/metrics"
QUESTIONS = [
    ("Password reset", "How do I reset my password? The email never arrives."),
    ("Export", "How can I export all my tasks to CSV?"),
    ("Slack", "How do I connect Slack so task updates show up in our channel?"),
]
REFUND = ("Refund please", "I was charged twice this month and I want a refund.")


@dataclass
class World:
    stack: Stack
    db: Pool
    settings: Settings
    keys: dict[str, str]
    started: datetime

    async def get(self, who: str | None, path: str, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return await self.stack.http.get(METRICS + path, params=params, headers=headers)


async def _submit(stack: Stack, subject: str, message: str) -> None:
    res = await stack.http.post("/api/v1/support/form", json=form(subject=subject,
                                                                  message=message))
    assert res.status_code == 201, res.text


async def _replies(db: Pool, tenant: str) -> int:
    async with db.acquire() as conn:
        found: int = await conn.fetchval(
            "SELECT count(*) FROM messages WHERE tenant_id = $1 AND role = 'agent'", tenant)
        return found


async def _other_tenant_message(db: Pool) -> None:
    """Tenant B: one inbound email of its own, escalated, answered 30 s later by hand."""
    async with db.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO tenants (id, name) VALUES ($1, 'Tenant B')", B)
        await conn.execute("INSERT INTO care_settings (tenant_id) VALUES ($1)", B)
        customer = await conn.fetchval(
            "INSERT INTO customers (tenant_id, name) VALUES ($1, 'Bo') RETURNING id", B)
        conversation = await conn.fetchval(
            "INSERT INTO conversations (tenant_id, customer_id, initial_channel, "
            "current_channel) VALUES ($1, $2, 'email', 'email') RETURNING id", B, customer)
        at = clock.now()
        inbound = await conn.fetchval(
            "INSERT INTO messages (tenant_id, conversation_id, customer_id, channel, direction,"
            " role, content, created_at, status) VALUES ($1, $2, $3, 'email', 'inbound', "
            "'customer', 'hi', $4, 'processed') RETURNING id", B, conversation, customer, at)
        await conn.execute(
            "INSERT INTO messages (tenant_id, conversation_id, customer_id, channel, direction,"
            " role, content, in_reply_to, created_at, status) VALUES ($1, $2, $3, 'email', "
            "'outbound', 'agent', 'hello', $4, $5, 'queued')",
            B, conversation, customer, inbound, at + timedelta(seconds=30))
        await conn.execute(
            "INSERT INTO agent_metrics (tenant_id, message_id, channel, metric_name, "
            "metric_value, recorded_at) VALUES ($1, $2, 'email', 'escalated', 1, $3)",
            B, inbound, at)


@pytest.fixture(scope="module")
async def world(postgres: EmbeddedPostgres, broker: LocalBroker) -> AsyncIterator[World]:
    base = await isolated_settings(postgres, broker, "opsview")
    # The checks and digests of this module run when the tests say, not on the stack's
    # scheduler's cadence (its first pass runs at the start, before any of them).
    settings = base.model_copy(update={"scheduler": base.scheduler.model_copy(
        update={"alert_interval_s": 3600.0, "housekeeping_interval_s": 3600.0,
                "alert_min_messages": 4})})
    db = await create_pool(settings, min_size=1, max_size=8)
    try:
        await _other_tenant_message(db)
        keys = {}
        for tenant, label in (("techcorp", "a"), (B, "b")):
            keys[label] = (await admin_keys.create_key(pool=db, tenant_id=tenant, role="operator",
                                                       name=label))[1]
        keys["a_admin"] = (await admin_keys.create_key(pool=db, tenant_id="techcorp", role="admin",
                                                     name="lead"))[1]
        # As `fte up` does for the local demo (the migration gives no tenant an address).
        await digest_mail.give_local_demo_an_address(pool=db, tenant_id="techcorp", now=clock.now())
        started = clock.now()
        async with running_stack(settings, db) as stack:
            for subject, message in [*QUESTIONS, REFUND]:
                await _submit(stack, subject, message)

            async def all_answered() -> bool:
                return await _replies(db, "techcorp") == 4

            await wait_for(all_answered, timeout_s=60)
            yield World(stack, db, settings, keys, started)
    finally:
        await db.close()


async def test_channel_metrics_count_the_tenants_own_traffic_per_channel(world: World) -> None:
    res = await world.get("a", "/channels", period="1h")
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["period"] == "1h" and list(body["channels"]) == ["email", "whatsapp", "web_form"]
    web = body["channels"]["web_form"]
    assert (web["conversations"], web["messages_in"], web["messages_out"]) == (4, 4, 4)
    assert (web["escalations"], web["escalation_rate"]) == (1, 0.25)
    # The refund's holding reply waits for a person: three of four went out on their own.
    assert (web["answered"], web["automated"], web["automation_rate"]) == (4, 3, 0.75)
    assert 0 < web["first_response_p50_s"] <= web["first_response_p95_s"] < 60
    assert 0 <= web["avg_sentiment"] <= 1
    # Tenant B's escalated email is not A's: A's email channel is empty.
    email = body["channels"]["email"]
    assert (email["messages_in"], email["escalations"], email["escalation_rate"]) == (0, 0, None)
    assert email["first_response_p95_s"] is None
    totals = body["totals"]
    assert (totals["messages_in"], totals["escalations"], totals["automated"]) == (4, 1, 3)

    theirs = (await world.get("b", "/channels", period="7d")).json()
    assert theirs["totals"]["messages_in"] == 1
    assert theirs["channels"]["email"]["escalation_rate"] == 1.0
    assert theirs["channels"]["email"]["first_response_p95_s"] == pytest.approx(30.0)
    assert theirs["channels"]["web_form"]["messages_in"] == 0


async def test_a_period_must_be_one_of_the_allowed_and_a_key_is_required(world: World) -> None:
    res = await world.get("a", "/channels", period="2h")
    assert res.status_code == 422
    assert "1h, 24h, 7d" in res.text
    assert (await world.get(None, "/channels", period="1h")).status_code == 401
    assert (await world.get(None, "/series")).status_code == 401
    assert (await world.get(None, "/alerts")).status_code == 401
    assert (await world.get("a", "/series", hours=0)).status_code == 422


async def test_the_series_puts_each_message_in_its_step(world: World) -> None:
    res = await world.get("a", "/series", hours=2, step_s=600)
    assert res.status_code == 200, res.text
    body = res.json()
    points = body["points"]
    assert len(points) == 12 and body["step_s"] == 600
    assert sum(p["messages_in"] for p in points) == 4
    assert any("web_form" in p["first_response_p95_s"] for p in points)
    assert all("email" not in p["first_response_p95_s"] for p in points)  # B's is B's
    last = points[-1]
    assert last["inbound_waiting"] == 0 and last["dead_letters"] == 0
    assert last["oldest_draft_age_s"] is not None  # the refund's holding reply waits


async def test_thresholds_open_one_alert_per_kind_and_channel_and_resolve_it(
        world: World) -> None:
    now = clock.now()
    first = await ops_health.check_tenant(pool=world.db, settings=world.settings,
                                          tenant_id="techcorp", now=now)
    assert first.opened == 0  # 1 of 4 escalated is 25%: not over the threshold
    await _submit(world.stack, "Refund", "This charge is wrong, refund me or I call my lawyer.")

    async def answered() -> bool:
        return await _replies(world.db, "techcorp") == 5

    await wait_for(answered, timeout_s=60)
    now = clock.now()
    opened = await ops_health.check_tenant(pool=world.db, settings=world.settings,
                                           tenant_id="techcorp", now=now)
    again = await ops_health.check_tenant(pool=world.db, settings=world.settings,
                                          tenant_id="techcorp", now=now + timedelta(minutes=3))
    assert (opened.opened, again.opened, again.still_open) == (1, 0, 1)
    alerts = (await world.get("a", "/alerts")).json()["alerts"]
    assert [(a["kind"], a["channel"], a["severity"]) for a in alerts] == [
        ("escalation_rate", "web_form", "critical")]
    assert alerts[0]["value"] == pytest.approx(0.4) and "40% of 5" in alerts[0]["summary"]
    assert (await world.get("b", "/alerts")).json()["alerts"] == []

    # Five hours on: the messages left the window, a draft still waits.
    later = now + timedelta(hours=5)
    moved = await ops_health.check_all(pool=world.db, settings=world.settings,
                                       now=later)  # B's too: too few
    assert (moved.opened, moved.still_open, moved.resolved) == (1, 0, 1)
    alerts = (await world.get("a", "/alerts")).json()["alerts"]
    assert [(a["kind"], a["channel"]) for a in alerts] == [("draft_age", None)]

    # The digest of the day lists both and goes to the operator address, once.
    mailer = SandboxAdapter("email")
    for _ in range(2):
        await scheduler.daily_work(pool=world.db, settings=world.settings,
                                   now=later + timedelta(days=1), mailer=mailer)
    async with world.db.acquire() as conn:
        mails = await conn.fetch(
            "SELECT recipient, subject, body, status FROM deliveries "
            "WHERE tenant_id = 'techcorp' AND kind = 'operator_digest' AND subject LIKE $1",
            f"Daily digest {later.date().isoformat()}%")
    [mail] = mails
    assert (mail["recipient"], mail["status"]) == ("operator@techcorp.example", "sandboxed")
    assert "escalated in the last 1 h" in mail["body"] and "approval inbox" in mail["body"]
    listing = (await world.stack.http.get("/api/v1/sandbox/messages",
                                          params={"channel": "email"})).json()["messages"]
    assert any(m["subject"] == mail["subject"] and m["ticket_id"] is None for m in listing)



async def test_the_console_link_token_signs_in_once_and_not_after_it_expires(
        world: World) -> None:
    now = clock.now()
    token = await local_sign_in.issue(pool=world.db, tenant_id="techcorp", now=now,
                                      ttl=timedelta(minutes=15))
    stale = await local_sign_in.issue(pool=world.db, tenant_id="techcorp",
                                      now=now - timedelta(minutes=16), ttl=timedelta(minutes=15))
    url = "/api/v1/console/local-sign-in"
    first = await world.stack.http.post(url, json={"token": token})
    assert first.status_code == 200, first.text
    key = first.json()["key"]
    who = await world.stack.http.get("/api/v1/admin/whoami",
                                     headers={"Authorization": f"Bearer {key}"})
    assert who.json() == {"tenant_id": "techcorp", "name": "local console (fte up)",
                          "role": "admin"}
    for spent in (token, stale, "x" * 43):
        res = await world.stack.http.post(url, json={"token": spent})
        assert res.status_code == 401 and "restart fte up" in res.text
    assert (await world.stack.http.post(url, json={})).status_code == 422
    async with world.db.acquire() as conn:
        stored = await conn.fetchval("SELECT count(*) FROM local_sign_in_tokens "
                                     "WHERE token_hash = sha256(convert_to($1, 'UTF8'))", token)
    assert stored == 1  # only the token's hash is kept


async def test_the_contract_every_answer_has_exactly_the_documented_fields(
        world: World) -> None:
    spec = (await world.stack.http.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]

    def fields(name: str) -> set[str]:
        return set(schemas[name]["properties"])

    operation = spec["paths"]["/api/v1/metrics/channels"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["period"]
    report = (await world.get("a", "/channels", period="24h")).json()
    assert set(report) == fields("ChannelReport") >= {"from", "until", "channels", "totals"}
    for metrics in [*report["channels"].values(), report["totals"]]:
        assert set(metrics) == fields("ChannelMetrics")
    series = (await world.get("a", "/series", hours=1, step_s=60)).json()
    assert set(series) == fields("Series") and len(series["points"]) == 60
    assert all(set(point) == fields("SeriesPoint") for point in series["points"])
    # The draft_age alert the threshold test above left open.
    alerts = (await world.get("a", "/alerts")).json()["alerts"]
    assert alerts and all(set(alert) == fields("Alert") for alert in alerts)


async def test_an_admin_sets_where_the_digest_is_mailed_and_the_change_is_audited(
        world: World) -> None:
    url = "/api/v1/admin/digest-address"

    def auth(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {world.keys[who]}"}

    seen = await world.stack.http.get(url, headers=auth("a"))
    assert seen.json() == {"email": "operator@techcorp.example"}
    refused = await world.stack.http.put(url, headers=auth("a"), json={"email": "x@example.com"})
    assert refused.status_code == 403
    bad = await world.stack.http.put(url, headers=auth("a_admin"), json={"email": "not mail"})
    assert bad.status_code == 422
    assert (await world.stack.http.get(url, headers=auth("b"))).json() == {"email": None}
    changed = await world.stack.http.put(url, headers=auth("a_admin"),
                                         json={"email": "ops-team@techcorp.example"})
    assert changed.json() == {"email": "ops-team@techcorp.example"}
    assert (await world.stack.http.get(url, headers=auth("a"))).json() == changed.json()
    async with world.db.acquire() as conn:
        audit = await conn.fetch(
            "SELECT actor, payload FROM care_audit WHERE tenant_id = 'techcorp' "
            "AND policy_clause = 'ADMIN.digest_address' ORDER BY id")
    assert [(row["actor"], row["payload"]) for row in audit] == [
        ("fte up", {"action": "set_digest_address", "mailed": True}),
        ("operator:lead", {"action": "set_digest_address", "mailed": True})]
    # `fte up` gives the demo an address only when it has none: the admin's choice stays.
    assert await digest_mail.give_local_demo_an_address(
        pool=world.db, tenant_id="techcorp", now=clock.now()) == "ops-team@techcorp.example"


async def test_the_digest_goes_out_through_gmail_when_it_is_configured_and_waits_out_an_outage(
        world: World) -> None:
    # Noon, days ahead of the module's traffic: the passes a minute apart stay in one day.
    now = datetime.combine(clock.now().date() + timedelta(days=3), time(12), tzinfo=UTC)
    day = (now - timedelta(days=1)).date().isoformat()
    with FakeGmail() as gmail:
        settings = world.settings.model_copy(update={"gmail": gmail.settings()})
        mailer = bootstrap.email_adapter(settings)
        gmail.fail_next("messages.send", 503)  # Gmail is down for the first pass
        await scheduler.daily_work(pool=world.db, settings=settings, now=now, mailer=mailer)
        async with world.db.acquire() as conn:
            waiting = await conn.fetchval(
                "SELECT mailed_at IS NULL FROM care_digests WHERE tenant_id = 'techcorp' "
                "AND day = $1::text::date", day)
        assert waiting is True and gmail.sent == []  # stored, to be mailed at the next pass
        await scheduler.daily_work(pool=world.db, settings=settings, now=now + timedelta(minutes=1),
                                   mailer=mailer)
        await scheduler.daily_work(pool=world.db, settings=settings, now=now + timedelta(minutes=2),
                                   mailer=mailer)
        # Refused for good the day after (a 4xx): recorded as failed, and not tried again.
        gmail.fail_next("messages.send", 400)
        tried = len(gmail.calls("messages.send"))
        for minutes in (0, 1):
            await scheduler.daily_work(pool=world.db, settings=settings,
                                       now=now + timedelta(days=1, minutes=minutes), mailer=mailer)
        assert len(gmail.calls("messages.send")) == tried + 1
        async with world.db.acquire() as conn:
            refused = await conn.fetchval(
                "SELECT status FROM deliveries WHERE tenant_id = 'techcorp' AND "
                "kind = 'operator_digest' AND subject LIKE $1", f"Daily digest {now.date()}%")
        assert refused == "failed"
    [sent] = [s for s in gmail.sent if day in s.message["Subject"]]
    assert sent.message["To"] == "ops-team@techcorp.example"  # the address the admin set
    assert sent.message["Subject"] == f"Daily digest {day}: TechCorp (internal)"
    assert "Drafts waiting for a person" in sent.message.get_content()
