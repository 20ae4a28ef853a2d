"""When a provider fails: the other channels keep working, its replies retry with backoff behind
a circuit breaker and then go to the DLQ with the reason, and health says which channel is
degraded. Real stack (API, worker, dispatcher with its retry loop, relay), real `twilio` client,
a local fake of Twilio's API that fails on request. Without credentials, replies go to the
sandbox, listed by the API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from production.config import Settings
from production.database.pool import Pool, create_pool
from production.domain.messages import InboundMessage
from production.local_stack import EmbeddedPostgres, LocalBroker
from production.messaging.kafka import make_consumer
from production.services import intake
from tests.conftest import (
    Stack,
    form,
    isolated_settings,
    read_ticket,
    running_stack,
    unique_email,
    wait_for,
)
from tests.fakes.twilio_api import FakeTwilio, inbound_form, sign
from tests.integration.test_whatsapp_channel import (
    INBOUND,
    OUR_NUMBER,
    PUBLIC_URL,
    new_phone,
    twilio_settings,
)

MAX_ATTEMPTS = 8
LOOK_AFTER_S = 4.0


@dataclass
class Outage:
    stack: Stack
    fake: FakeTwilio

    @property
    def pool(self) -> Pool:
        return self.stack.pool

    async def whatsapp(self, phone: str, body: str) -> None:
        message = inbound_form(self.fake.account_sid, sender=phone, body=body, to=OUR_NUMBER)
        signature = sign(self.fake.auth_token, PUBLIC_URL + INBOUND, message)
        res = await self.stack.http.post(INBOUND, data=message,
                                         headers={"X-Twilio-Signature": signature})
        assert res.status_code == 200, res.text

    async def channels(self) -> dict[str, Any]:
        res = await self.stack.http.get("/api/v1/health")
        assert res.status_code == 200
        body: dict[str, Any] = res.json()
        return body

    async def reply_row(self, phone: str) -> Any:
        async with self.pool.acquire() as conn:
            return await conn.fetchrow(
                "SELECT m.id, m.status, m.delivery_attempts, m.last_delivery_error, "
                "m.delivery_ref "
                "FROM messages m JOIN customers c ON c.id = m.customer_id "
                "WHERE m.tenant_id = 'techcorp' AND c.phone = $1 AND m.direction = 'outbound'",
                phone)


@pytest.fixture(scope="module")
async def outage(postgres: EmbeddedPostgres, broker: LocalBroker) -> AsyncIterator[Outage]:
    async with FakeTwilio() as fake:
        base = await isolated_settings(postgres, broker, "outage")
        settings = base.model_copy(update={
            "twilio": twilio_settings(fake, turn_window_s=0.2),
            "api": base.api.model_copy(update={"public_url": PUBLIC_URL}),
            "reliability": base.reliability.model_copy(update={
                "delivery_max_attempts": MAX_ATTEMPTS, "delivery_backoff_initial_s": 0.1,
                "delivery_backoff_max_s": 0.4, "breaker_failure_threshold": 2,
                "breaker_cooldown_s": 0.8, "delivery_lookup_after_s": LOOK_AFTER_S}),
        })
        pool = await create_pool(settings, min_size=1, max_size=8)
        try:
            async with running_stack(settings, pool) as stack:
                yield Outage(stack, fake)
        finally:
            await pool.close()


async def test_twilio_down_degrades_whatsapp_only_and_the_reply_goes_out_after_it_recovers(
    outage: Outage,
) -> None:
    phone = new_phone()
    outage.fake.fail_next(503, 503, 503, 429, to=f"whatsapp:{phone}")
    await outage.whatsapp(phone, "How do I reset my password? The email never arrives.")

    async def degraded() -> dict[str, Any] | None:
        body = await outage.channels()
        return body if body["components"]["channels"]["whatsapp"] == "degraded" else None

    health = await wait_for(degraded, timeout_s=20)
    assert health["status"] == "degraded"
    assert health["components"]["channels"]["web_form"] == "up"
    assert health["components"]["channels"]["email"] == "sandbox"

    # Meanwhile the web form is answered as usual.
    res = await outage.stack.http.post("/api/v1/support/form", json=form())
    assert res.status_code == 201
    ticket, token = res.json()["ticket_id"], res.json()["access_token"]

    async def form_answered() -> bool:
        view = (await read_ticket(outage.stack.http, ticket, token)).json()
        return any(m["author"] == "agent" and m["delivered_at"] for m in view["messages"])

    assert await wait_for(form_answered, timeout_s=20)

    # Twilio recovers: the parked reply goes out once, and WhatsApp is healthy again.
    async def delivered() -> Any:
        row = await outage.reply_row(phone)
        return row if row is not None and row["status"] == "delivered" else None

    row = await wait_for(delivered, timeout_s=30)
    assert 2 <= row["delivery_attempts"] <= MAX_ATTEMPTS and row["last_delivery_error"] is None
    assert len(outage.fake.bodies_to(f"whatsapp:{phone}")) == 1

    async def recovered() -> bool:
        return bool((await outage.channels())["components"]["channels"]["whatsapp"] == "up")

    assert await wait_for(recovered, timeout_s=10)


async def test_a_reply_twilio_took_after_the_dispatcher_stopped_waiting_goes_out_once(
    outage: Outage,
) -> None:
    phone = new_phone()
    outage.fake.slow_s = 3.0  # Twilio takes it, and answers after the client's 2 s timeout
    outage.fake.fail_next("timeout", to=f"whatsapp:{phone}")
    try:
        await outage.whatsapp(phone, "How do I export my tasks to CSV?")

        async def delivered() -> Any:
            row = await outage.reply_row(phone)
            return row if row is not None and row["status"] == "delivered" else None

        # The retry waits until the call could have landed, finds it at Twilio, records it.
        row = await wait_for(delivered, timeout_s=30)
    finally:
        outage.fake.slow_s = 2.0
    [sent] = [s for s in outage.fake.sent if s.to == f"whatsapp:{phone}"]
    assert (row["delivery_ref"], row["delivery_attempts"]) == (sent.sid, 1)
    lookups = [r for r in outage.fake.recorded
               if r.method == "GET" and r.form.get("To") == f"whatsapp:{phone}"]
    assert [r.status for r in lookups] == [200]


async def test_a_provider_that_stays_down_sends_the_reply_to_the_dlq_with_the_reason(
    outage: Outage,
) -> None:
    settings: Settings = outage.stack.settings
    phone = new_phone()
    outage.fake.fail_next(*([503] * 40), to=f"whatsapp:{phone}")
    dlq = make_consumer(settings, settings.kafka.topic_dlq, f"dlq-reader-{uuid.uuid4().hex}")
    await dlq.start()
    try:
        await outage.whatsapp(phone, "Where do I find my invoices?")

        async def failed() -> Any:
            row = await outage.reply_row(phone)
            return row if row is not None and row["status"] == "delivery_failed" else None

        row = await wait_for(failed, timeout_s=60)
        assert row["delivery_attempts"] == MAX_ATTEMPTS
        assert f"after {MAX_ATTEMPTS} attempts" in row["last_delivery_error"]
        assert outage.fake.bodies_to(f"whatsapp:{phone}") == []

        async def dead_letter() -> Any:
            batches = await dlq.getmany(timeout_ms=500)
            for record in (r for records in batches.values() for r in records):
                headers = dict(record.headers or ())
                if str(row["id"]).encode() in (record.value or b""):
                    return headers
            return None

        headers = await wait_for(dead_letter, timeout_s=20)
        assert headers["fte-error"].startswith(b"undeliverable: whatsapp unavailable after")
        assert headers["fte-original-topic"] == settings.kafka.topic_outgoing.encode()
        async with outage.pool.acquire() as conn:
            recorded = await conn.fetchrow(
                "SELECT status, error FROM deliveries WHERE tenant_id = 'techcorp' "
                "AND message_id = $1", row["id"])
        assert recorded["status"] == "failed" and "503" in recorded["error"]
    finally:
        await dlq.stop()


async def test_without_credentials_email_replies_are_listed_in_the_sandbox(stack: Stack) -> None:
    address = unique_email("sandbox")
    message = InboundMessage(
        tenant_id="techcorp", channel="email", external_id=f"sandbox-{uuid.uuid4().hex}",
        content="Hello, how do I turn on two-factor authentication for my account?",
        subject="2FA", sender_name="Mary Jackson", sender_email=address)
    stored = await intake.accept_inbound(pool=stack.pool, msg=message,
                                         topic=stack.settings.kafka.topic_incoming)
    assert stored.created

    async def listed() -> Any:
        res = await stack.http.get("/api/v1/sandbox/messages", params={"channel": "email"})
        assert res.status_code == 200
        return next((m for m in res.json()["messages"] if m["recipient"] == address), None)

    entry = await wait_for(listed, timeout_s=20)
    assert entry["channel"] == "email" and entry["subject"]
    assert entry["body"].startswith("Dear Mary") and entry["ticket_id"].startswith("TKT-")
    assert (await stack.http.get("/api/v1/sandbox/messages",
                                 params={"channel": "fax"})).status_code == 422
    health = (await stack.http.get("/api/v1/health")).json()
    assert health["components"]["channels"] == {
        "email": "sandbox", "whatsapp": "sandbox", "web_form": "up"}
