"""A provider call that succeeded but was not recorded is not sent again (issue 18): the
dispatcher commits each call's start before it makes it, and a delivery that finds a start
with no outcome waits until that call could have landed, then looks for the message at the
provider (Twilio: its messages to the number since then; Gmail: the reply's own Message-ID)
and records it as sent if it is there. A send the provider never got is still retried.

The real `deliver` against the real PostgreSQL, the real `twilio` and Google clients against
the local fakes over HTTP; each delivery of the notice (a retry, a redelivery) is a call with
the instant it happens at.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from production.channels.base import ChannelAdapter
from production.channels.gmail import GmailAdapter
from production.channels.whatsapp import WhatsAppAdapter
from production.config import Settings
from production.database.pool import UNAVAILABLE_ERRORS, Pool
from production.database.queries import whatsapp
from production.domain.messages import InboundMessage, OutboundNotice
from production.services import intake
from production.services.deliver_outbound import DeliveryPolicy, deliver
from production.services.whatsapp_delivery import WhatsAppDelivery
from tests.conftest import wait_for
from tests.fakes.gmail_api import FakeGmail
from tests.fakes.twilio_api import FakeTwilio, Sent
from tests.integration.care_world import Inbound, acting_tenant, care_db, fate, submit
from tests.integration.test_whatsapp_channel import LONG_REPLY, new_phone, twilio_settings

db = care_db("lookup")
LOOK_AFTER_S = 5.0
ANSWER = "Open Settings, then Export, and pick CSV."


@pytest.fixture(scope="module")
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio(slow_s=1.0) as fake:
        yield fake


@pytest.fixture(scope="module")
def gmail() -> Iterator[FakeGmail]:
    with FakeGmail() as fake:
        yield fake


@dataclass(frozen=True)
class _Delivery:
    """One released reply and the dispatcher's channel for it: each `at(now)` is a delivery
    of its notice (a retry, a redelivery) at that instant."""

    pool: Pool
    notice: OutboundNotice
    adapters: dict[str, ChannelAdapter]
    policy: DeliveryPolicy

    async def at(self, now: datetime) -> str:
        return await deliver(pool=self.pool, adapters=self.adapters, notice=self.notice,
                             policy=self.policy, now=now)

    async def row(self) -> Any:
        async with self.pool.acquire() as conn:
            return await conn.fetchrow(
                "SELECT status, delivery_ref, delivery_attempts, delivery_started_at, "
                "next_delivery_at FROM messages WHERE tenant_id = $1 AND id = $2",
                self.notice.tenant_id, self.notice.message_id)


async def _released(db: tuple[Settings, Pool], now: datetime, *, channel: str, address: str,
                    adapter: Callable[[Settings], ChannelAdapter],
                    content: str = ANSWER) -> _Delivery:
    """A customer's message on the channel and the agent's reply to it, released for delivery
    (an autopilot tenant's), with `adapter(settings)` as the channel."""
    settings, pool = db
    tenant, ceiling = await acting_tenant(pool, settings)
    email, phone = (address, None) if channel == "email" else (None, address)
    msg = InboundMessage(tenant_id=tenant, channel=channel, external_id=f"ext-{uuid.uuid4()}",
                         content="How do I export my tasks?", sender_email=email,
                         sender_phone=phone, sender_name="Ada", subject="Export")
    async with pool.acquire() as conn, conn.transaction():
        stored = await intake.ingest(conn, msg)
    reply = await submit(pool, ceiling, Inbound(tenant, stored.message_id, stored.customer_id,
                                                email or ""), now=now, content=content)
    assert (await fate(pool, tenant, reply)).status == "queued"
    policy = DeliveryPolicy(care=ceiling.care, lookup_after_s=LOOK_AFTER_S,
                            backoff_initial_s=0.5, backoff_max_s=1.0, breaker_threshold=100)
    return _Delivery(pool, OutboundNotice(tenant_id=tenant, message_id=reply, channel=channel),
                     {channel: adapter(ceiling)}, policy)


async def _whatsapp_reply(db: tuple[Settings, Pool], fake: FakeTwilio, now: datetime,
                          phone: str, content: str = ANSWER) -> _Delivery:
    """A WhatsApp reply to `phone`, through a channel that gives up on Twilio after 0.5 s."""
    def channel(settings: Settings) -> ChannelAdapter:
        settings = settings.model_copy(update={"twilio": twilio_settings(fake, timeout_s=0.5)})
        return WhatsAppDelivery(WhatsAppAdapter(settings), settings)

    return await _released(db, now, channel="whatsapp", address=phone, adapter=channel,
                           content=content)


async def _email_reply(db: tuple[Settings, Pool], fake: FakeGmail, now: datetime) -> _Delivery:
    """An email reply, through a Gmail channel that gives up after 0.5 s."""
    return await _released(db, now, channel="email",
                           address=f"ada-{uuid.uuid4().hex[:8]}@example.com",
                           adapter=lambda _: GmailAdapter(fake.settings(timeout_s=0.5)))


def _sent_to(fake: FakeTwilio, phone: str) -> list[Sent]:
    return [s for s in fake.sent if s.to == f"whatsapp:{phone}"]


def _lookups(fake: FakeTwilio, phone: str) -> int:
    return sum(1 for r in fake.recorded if r.method == "GET"
               and r.form.get("To") == f"whatsapp:{phone}")


async def test_a_whatsapp_reply_twilio_took_after_the_client_gave_up_is_found_not_resent(
    db: tuple[Settings, Pool], twilio: FakeTwilio, now: datetime
) -> None:
    phone = new_phone()
    reply = await _whatsapp_reply(db, twilio, now, phone)
    twilio.fail_next("timeout", to=f"whatsapp:{phone}")  # takes it after 1 s; we wait 0.5 s

    assert await reply.at(now) == "retrying"
    row = await reply.row()
    assert (row["status"], row["delivery_attempts"], row["delivery_started_at"]) == (
        "queued", 1, now)

    async def taken() -> list[Sent]:
        return _sent_to(twilio, phone)

    [sent] = await wait_for(taken)  # Twilio has it, and nothing of ours says so
    # The retry comes before the call could have landed: it waits, asking and sending nothing.
    assert await reply.at(now + timedelta(seconds=1)) == "retrying"
    assert _lookups(twilio, phone) == 0
    row = await reply.row()
    assert row["next_delivery_at"] == now + timedelta(seconds=LOOK_AFTER_S)
    assert row["delivery_attempts"] == 1  # waiting spends no attempt

    # Then it looks, finds Twilio's message and records it: one send, Twilio's SID.
    assert await reply.at(now + timedelta(seconds=LOOK_AFTER_S)) == "delivered"
    assert _sent_to(twilio, phone) == [sent] and _lookups(twilio, phone) == 1
    row = await reply.row()
    assert (row["status"], row["delivery_ref"], row["delivery_started_at"]) == (
        "delivered", sent.sid, None)
    async with reply.pool.acquire() as conn:
        assert await whatsapp.sent_parts(conn, reply.notice.tenant_id,
                                         reply.notice.message_id) == {0: sent.sid}
    assert await reply.at(now + timedelta(seconds=LOOK_AFTER_S)) == "duplicate"


async def test_the_database_lost_right_after_twilio_took_a_part_sends_each_part_once(
    db: tuple[Settings, Pool], twilio: FakeTwilio, now: datetime
) -> None:
    phone = new_phone()
    reply = await _whatsapp_reply(db, twilio, now, phone, content=LONG_REPLY)  # two parts
    url = db[0].database.url.get_secret_value()

    async def database_down(sent: Sent) -> None:
        """Every connection to the database dropped after Twilio took the first part, before
        it answers: the part is sent and cannot be stored."""
        if sent.to != f"whatsapp:{phone}":
            return
        twilio.on_accept = None
        admin = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()", url.rsplit("/", 1)[1])
        finally:
            await admin.close()

    twilio.on_accept = database_down
    with pytest.raises(UNAVAILABLE_ERRORS):
        await reply.at(now)
    [first] = _sent_to(twilio, phone)
    async with reply.pool.acquire() as conn:  # it went out; nothing says so but the start
        assert await whatsapp.sent_parts(conn, reply.notice.tenant_id,
                                         reply.notice.message_id) == {}
    row = await reply.row()
    assert (row["status"], row["delivery_started_at"]) == ("queued", now)

    # The redelivery (the consumer retries once the database answers): too early, then it
    # finds the first part at Twilio and sends the second only.
    assert await reply.at(now + timedelta(seconds=2)) == "retrying"
    assert await reply.at(now + timedelta(seconds=LOOK_AFTER_S)) == "delivered"
    parts = _sent_to(twilio, phone)
    assert len(parts) == 2 and parts[0] == first  # each part exactly once
    assert " ".join(part.body for part in parts) == LONG_REPLY
    row = await reply.row()
    assert (row["status"], row["delivery_ref"]) == (
        "delivered", ",".join(part.sid for part in parts))


async def test_a_whatsapp_send_twilio_refused_is_retried_at_once_without_looking(
    db: tuple[Settings, Pool], twilio: FakeTwilio, now: datetime
) -> None:
    phone = new_phone()
    reply = await _whatsapp_reply(db, twilio, now, phone)
    twilio.fail_next(503, to=f"whatsapp:{phone}")

    assert await reply.at(now) == "retrying"
    row = await reply.row()  # Twilio answered: nothing went out, nothing to look for
    assert (row["delivery_attempts"], row["delivery_started_at"]) == (1, None)
    assert await reply.at(now + timedelta(seconds=1)) == "delivered"
    assert [s.body for s in _sent_to(twilio, phone)] == [ANSWER]
    assert _lookups(twilio, phone) == 0


async def test_a_whatsapp_send_that_never_reached_twilio_is_looked_for_then_sent_once(
    db: tuple[Settings, Pool], twilio: FakeTwilio, now: datetime
) -> None:
    phone = new_phone()
    reply = await _whatsapp_reply(db, twilio, now, phone)
    twilio.fail_next("lost", to=f"whatsapp:{phone}")  # the client gives up; Twilio took nothing

    assert await reply.at(now) == "retrying"
    assert (await reply.row())["delivery_started_at"] == now

    async def answered() -> bool:  # the lost request is over at the fake
        return any(r.status == 500 and r.form.get("To") == f"whatsapp:{phone}"
                   for r in twilio.recorded)

    await wait_for(answered)
    assert await reply.at(now + timedelta(seconds=LOOK_AFTER_S)) == "delivered"
    [sent] = _sent_to(twilio, phone)
    assert sent.body == ANSWER and _lookups(twilio, phone) == 1
    row = await reply.row()
    assert (row["status"], row["delivery_ref"], row["delivery_attempts"]) == (
        "delivered", sent.sid, 2)


def _mails_of(fake: FakeGmail, reply: _Delivery) -> list[str]:
    """The Gmail ids of the mails the fake sent as this reply (by its Message-ID)."""
    return [s.id for s in fake.sent
            if str(reply.notice.message_id) in str(s.message["Message-ID"])]


async def test_an_email_gmail_sent_after_the_client_gave_up_is_found_by_its_message_id(
    db: tuple[Settings, Pool], gmail: FakeGmail, now: datetime
) -> None:
    reply = await _email_reply(db, gmail, now)
    gmail.delay("messages.send", 1.0)
    try:
        assert await reply.at(now) == "retrying"

        async def sent() -> list[str]:
            return _mails_of(gmail, reply)

        [gmail_id] = await wait_for(sent)
    finally:
        gmail.delay("messages.send", 0)
    searches = len(gmail.calls("messages.list"))
    assert await reply.at(now + timedelta(seconds=LOOK_AFTER_S)) == "delivered"
    assert _mails_of(gmail, reply) == [gmail_id]  # one mail
    [search] = gmail.calls("messages.list")[searches:]
    assert search.query["q"] == [f"rfc822msgid:fte-{reply.notice.message_id}@techcorp.example"]
    row = await reply.row()
    assert (row["status"], row["delivery_ref"], row["delivery_started_at"]) == (
        "delivered", gmail_id, None)


async def test_an_email_gmail_refused_is_retried_at_once_and_sent_once(
    db: tuple[Settings, Pool], gmail: FakeGmail, now: datetime
) -> None:
    reply = await _email_reply(db, gmail, now)
    gmail.fail_next("messages.send", 503)
    searches = len(gmail.calls("messages.list"))

    assert await reply.at(now) == "retrying"
    assert (await reply.row())["delivery_started_at"] is None
    assert await reply.at(now + timedelta(seconds=1)) == "delivered"
    assert len(_mails_of(gmail, reply)) == 1
    assert len(gmail.calls("messages.list")) == searches  # nothing to look for
