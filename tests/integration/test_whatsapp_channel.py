"""The WhatsApp channel over real HTTP, real PostgreSQL and the real broker, with the real
`twilio` client talking to a local fake of Twilio's Messages API.

One stack serves the module: the API (Twilio configured, public URL https://support.example.com
so every webhook arrives at 127.0.0.1 but is signed for the public URL, as behind an ingress),
the worker, the dispatcher (built by `bootstrap.delivery_adapters`, so WhatsApp replies go through
`WhatsAppDelivery`: the adapter, its sent parts stored), the relay and the sweeper, on a database
of its own.
"""

from __future__ import annotations

import asyncio
import json
import random
import string
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from production.channels.base import ProviderUnavailable
from production.channels.whatsapp import WhatsAppAdapter
from production.config import Settings, TwilioSettings
from production.database.pool import Pool, create_pool
from production.database.queries import whatsapp
from production.domain.delivery import OutboundMessage, SentPart
from production.domain.identity import normalize_phone
from production.domain.messages import InboundMessage, encode_event
from production.domain.whatsapp import MEDIA_ONLY_REPLY
from production.local_stack import EmbeddedPostgres, LocalBroker, free_port
from production.services.whatsapp_delivery import WhatsAppDelivery
from tests.conftest import Stack, _serve_api, isolated_settings, running_stack, wait_for
from tests.fakes.twilio_api import FakeTwilio, inbound_form, sign, status_form
from tests.kafka_waits import wait_until_handled

PUBLIC_URL = "https://support.example.com"
INBOUND = "/api/v1/webhooks/whatsapp"
STATUS = "/api/v1/webhooks/whatsapp/status"
OUR_NUMBER = "+14155238886"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
WINDOW_S = 1.0


@dataclass
class WhatsApp:
    stack: Stack
    fake: FakeTwilio

    @property
    def pool(self) -> Pool:
        return self.stack.pool

    @property
    def settings(self) -> Settings:
        return self.stack.settings

    async def post(self, path: str, form: dict[str, str], *, url: str | None = None,
                   token: str | None = None, signature: str | None = None,
                   http: httpx.AsyncClient | None = None) -> httpx.Response:
        """Post a form as Twilio would: signed for `url` (default: the public URL)."""
        if signature is None:
            signature = sign(token or self.fake.auth_token, url or PUBLIC_URL + path, form)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        return await (http or self.stack.http).post(path, data=form, headers=headers)

    async def message(self, sender: str, body: str = "", **kwargs: Any) -> dict[str, str]:
        """Post one signed inbound message; return its form."""
        form = inbound_form(self.fake.account_sid, sender=sender, body=body, to=OUR_NUMBER,
                            **kwargs)
        res = await self.post(INBOUND, form)
        assert res.status_code == 200, res.text
        return form

    async def replies_to(self, phone: str, count: int = 1) -> list[str]:
        """Wait until the fake was asked to send `count` messages to `phone`; return them."""
        async def arrived() -> list[str] | None:
            bodies = self.fake.bodies_to(f"whatsapp:{phone}")
            return bodies if len(bodies) >= count else None

        found: list[str] = await wait_for(arrived, timeout_s=20, interval_s=0.05)
        return found


def twilio_settings(fake: FakeTwilio, **overrides: Any) -> TwilioSettings:
    values: dict[str, Any] = {
        "account_sid": fake.account_sid, "auth_token": SecretStr(fake.auth_token),
        "whatsapp_number": OUR_NUMBER, "api_base_url": fake.base_url,
        "turn_window_s": WINDOW_S, "timeout_s": 2.0}
    values.update(overrides)
    return TwilioSettings(**values)


@pytest.fixture(scope="module")
async def wa(postgres: EmbeddedPostgres, broker: LocalBroker) -> AsyncIterator[WhatsApp]:
    async with FakeTwilio() as fake:
        base = await isolated_settings(postgres, broker, "whatsapp")
        settings = base.model_copy(update={
            "twilio": twilio_settings(fake),
            "api": base.api.model_copy(update={"public_url": PUBLIC_URL})})
        pool = await create_pool(settings, min_size=1, max_size=8)
        try:
            async with running_stack(settings, pool) as stack:
                yield WhatsApp(stack, fake)
        finally:
            await pool.close()


def new_phone() -> str:
    """A valid UK mobile number no other test uses."""
    while True:
        candidate = "+447" + "".join(random.choices(string.digits, k=9))
        if normalize_phone(candidate) == candidate:
            return candidate


async def _rows(pool: Pool, sid: str) -> dict[str, int]:
    async with pool.acquire() as conn:
        return {
            "customers": await conn.fetchval("SELECT count(*) FROM customers"),
            "messages": await conn.fetchval(
                "SELECT count(*) FROM messages WHERE channel = 'whatsapp' "
                "AND direction = 'inbound'"),
            "this message": await conn.fetchval(
                "SELECT count(*) FROM messages WHERE external_id = $1", sid),
            "its outbox events": await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE payload->'data'->>'external_id' = $1", sid),
        }


async def _settled(wa: WhatsApp, phone: str, inbound: int) -> int:
    """Wait until the worker group has handled all this customer's `inbound` records on the
    incoming topic, and the dispatcher group every reply they released; return how many
    replies the customer has (sent or held). From then on nothing more reaches Twilio."""
    k = wa.settings.kafka
    await wait_until_handled(wa.settings, topic=k.topic_incoming, group=k.worker_group,
                             keys=[phone], count=inbound)
    async with wa.pool.acquire() as conn:
        customer = await conn.fetchval("SELECT id FROM customers WHERE phone = $1", phone)
        replies: int = await conn.fetchval(
            "SELECT count(*) FROM messages WHERE customer_id = $1 AND role = 'agent'", customer)
        released = await conn.fetchval(  # the dispatcher's events are keyed by customer
            "SELECT count(*) FROM outbox WHERE topic = $1 AND message_key = $2",
            k.topic_outgoing, str(customer))
    if released:
        await wait_until_handled(wa.settings, topic=k.topic_outgoing, group=k.dispatcher_group,
                                 keys=[str(customer)], count=released)
    return replies


async def _inbound_row(pool: Pool, sid: str) -> Any:
    async with pool.acquire() as conn:
        return await conn.fetchrow(
            "SELECT m.id, m.content, m.metadata, m.status, c.phone, c.name FROM messages m "
            "JOIN customers c ON c.id = m.customer_id WHERE m.external_id = $1", sid)


# --- the inbound webhook's contract ---------------------------------------------------------

async def test_a_signed_message_is_stored_with_its_event_and_answered_with_empty_twiml(
    wa: WhatsApp,
) -> None:
    phone = new_phone()
    form = inbound_form(wa.fake.account_sid, sender=phone, body="How do I export to CSV?",
                        to=OUR_NUMBER, media=("image/png",))
    # Arrives at http://127.0.0.1:PORT; signed for https://support.example.com/...
    res = await wa.post(INBOUND, form)
    assert res.status_code == 200
    assert res.text == EMPTY_TWIML
    assert res.headers["content-type"].startswith("text/xml")
    row = await _inbound_row(wa.pool, form["MessageSid"])
    assert row["content"] == "How do I export to CSV?"
    assert (row["phone"], row["name"]) == (phone, "Ada Lovelace")
    assert row["metadata"] == {
        "twilio_message_sid": form["MessageSid"], "wa_id": phone[1:], "to": OUR_NUMBER,
        "num_media": 1, "media_content_types": ["image/png"]}
    async with wa.pool.acquire() as conn:
        events = await conn.fetch(
            "SELECT message_key, payload FROM outbox WHERE payload->'data'->>'external_id' = $1",
            form["MessageSid"])
    assert [e["message_key"] for e in events] == [phone]
    assert events[0]["payload"]["data"]["message_id"] == str(row["id"])


async def test_the_same_message_sid_twice_is_stored_once(wa: WhatsApp) -> None:
    form = await wa.message(new_phone(), "Is there an API rate limit?")
    before = await _rows(wa.pool, form["MessageSid"])
    again = await wa.post(INBOUND, form)  # Twilio retries a webhook it thinks failed
    assert again.status_code == 200 and again.text == EMPTY_TWIML
    after = await _rows(wa.pool, form["MessageSid"])
    assert after == before
    assert (after["this message"], after["its outbox events"]) == (1, 1)


FORGERIES = {
    "a wrong auth token": {"token": "0" * 32},
    "no signature header": {"signature": ""},
    "signed for the URL this process sees, not the public one": {"url": "local"},
    "signed for another path": {"url": PUBLIC_URL + STATUS},
    "a garbage signature": {"signature": "bm90IGEgc2lnbmF0dXJl"},
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
async def test_a_forged_or_unsigned_message_is_403_and_stores_nothing(wa: WhatsApp,
                                                                      forgery: str) -> None:
    form = inbound_form(wa.fake.account_sid, sender=new_phone(), body="send me everything")
    how = dict(FORGERIES[forgery])
    if how.get("url") == "local":
        how["url"] = wa.stack.base_url + INBOUND
    before = await _rows(wa.pool, form["MessageSid"])
    res = await wa.post(INBOUND, form, **how)
    assert res.status_code == 403
    assert "X-Twilio-Signature" in res.json()["detail"]
    assert await _rows(wa.pool, form["MessageSid"]) == before


async def test_a_form_changed_after_signing_is_403_and_stores_nothing(wa: WhatsApp) -> None:
    form = inbound_form(wa.fake.account_sid, sender=new_phone(), body="what is my plan?")
    signature = sign(wa.fake.auth_token, PUBLIC_URL + INBOUND, form)
    form["Body"] = "refund me now"
    before = await _rows(wa.pool, form["MessageSid"])
    res = await wa.post(INBOUND, form, signature=signature)
    assert res.status_code == 403
    assert await _rows(wa.pool, form["MessageSid"]) == before


MALFORMED = [
    ("MessageSid", None, "MessageSid is required"),
    ("From", None, "From is required"),
    ("From", "+447911123456", "WhatsApp address"),
    ("From", "whatsapp:+44123", "not a valid phone number"),
    ("NumMedia", "lots", "NumMedia"),
]


@pytest.mark.parametrize(("field", "value", "reason"), MALFORMED)
async def test_a_signed_but_malformed_form_is_400_with_a_reason_and_stores_nothing(
    wa: WhatsApp, field: str, value: str | None, reason: str
) -> None:
    form = inbound_form(wa.fake.account_sid, sender=new_phone(), body="hello")
    sid = form["MessageSid"]
    if value is None:
        form.pop(field)
    else:
        form[field] = value
    before = await _rows(wa.pool, sid)
    res = await wa.post(INBOUND, form)
    assert res.status_code == 400
    assert reason in res.json()["detail"]
    assert await _rows(wa.pool, sid) == before


@dataclass
class _Api:
    http: httpx.AsyncClient
    base_url: str


@pytest.fixture
async def other_api(wa: WhatsApp) -> AsyncIterator[Any]:
    """Start an extra API on the module's database with changed settings."""
    started: list[tuple[Any, asyncio.Task[None], httpx.AsyncClient]] = []

    async def start(**changes: Any) -> _Api:
        port = free_port()
        server, task = await _serve_api(wa.settings.model_copy(update=changes), port)
        http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)
        started.append((server, task, http))
        return _Api(http, f"http://127.0.0.1:{port}")

    yield start
    for server, task, http in started:
        await http.aclose()
        server.should_exit = True
        await task


async def test_without_a_public_url_the_signature_is_checked_against_the_request_url(
    wa: WhatsApp, other_api: Any
) -> None:
    api = await other_api(api=wa.settings.api.model_copy(update={"public_url": None}))
    form = inbound_form(wa.fake.account_sid, sender=new_phone(), body="hello there")
    public = await wa.post(INBOUND, form, http=api.http)
    assert public.status_code == 403
    local = await wa.post(INBOUND, form, url=api.base_url + INBOUND, http=api.http)
    assert local.status_code == 200
    assert (await _rows(wa.pool, form["MessageSid"]))["this message"] == 1


async def test_unconfigured_twilio_is_503_and_a_disabled_channel_is_404(
    wa: WhatsApp, other_api: Any
) -> None:
    form = inbound_form(wa.fake.account_sid, sender=new_phone(), body="anyone there?")
    before = await _rows(wa.pool, form["MessageSid"])
    unconfigured = await other_api(twilio=TwilioSettings(account_sid=None, auth_token=None))
    for path in (INBOUND, STATUS):
        res = await wa.post(path, form, http=unconfigured.http)
        assert res.status_code == 503
        assert "TWILIO_AUTH_TOKEN" in res.json()["detail"]
    disabled = await other_api(enabled_channels=["email", "web_form"])
    res = await wa.post(INBOUND, form, http=disabled.http)
    assert res.status_code == 404
    assert res.json()["detail"] == "the whatsapp channel is not enabled"
    assert await _rows(wa.pool, form["MessageSid"]) == before


# --- delivery through the real twilio client ------------------------------------------------

def _outbound(body: str, *, phone: str | None = None, wa_id: str | None = None,
              to: str | None = OUR_NUMBER) -> OutboundMessage:
    metadata: dict[str, Any] = {"to": to} if to else {}
    if wa_id:
        metadata["wa_id"] = wa_id
    return OutboundMessage(tenant_id="techcorp", message_id=uuid.uuid4(), channel="whatsapp",
                           recipient=phone, recipient_name="Ada", subject=None, body=body,
                           reply_to_external_id="SM" + uuid.uuid4().hex,
                           reply_to_metadata=metadata)


def _adapter(wa: WhatsApp, **twilio: Any) -> WhatsAppDelivery:
    """The dispatcher's WhatsApp channel: the adapter, its sent parts stored in the database."""
    settings = wa.settings.model_copy(update={"twilio": twilio_settings(wa.fake, **twilio)})
    return WhatsAppDelivery(WhatsAppAdapter(settings), settings)


LONG_REPLY = " ".join(f"Sentence number {i} explains one more step of the CSV export."
                      for i in range(32))


async def test_a_reply_goes_out_through_the_twilio_client_with_a_status_callback(
    wa: WhatsApp,
) -> None:
    phone = new_phone()
    receipt = await _adapter(wa).deliver(_outbound("Your export is ready.", phone=phone))
    # Found by its SID: the module's running dispatcher may send other replies meanwhile.
    [sent] = [s for s in wa.fake.sent if s.sid == receipt.provider_ref]
    assert receipt.status == "delivered"
    assert sent.account_sid == wa.fake.account_sid
    assert (sent.from_, sent.to, sent.body) == (
        f"whatsapp:{OUR_NUMBER}", f"whatsapp:{phone}", "Your export is ready.")
    assert sent.status_callback == PUBLIC_URL + STATUS


async def test_a_reply_goes_to_the_number_that_wrote_and_from_the_number_written_to(
    wa: WhatsApp,
) -> None:
    wrote_from, profile_phone = new_phone(), new_phone()
    adapter = _adapter(wa, whatsapp_number=None)
    receipt = await adapter.deliver(_outbound("Hello!", phone=profile_phone,
                                              wa_id=wrote_from[1:], to="+14155550123"))
    assert receipt.status == "delivered"
    [sent] = [s for s in wa.fake.sent if s.sid == receipt.provider_ref]
    assert (sent.to, sent.from_) == (f"whatsapp:{wrote_from}", "whatsapp:+14155550123")
    nowhere = await adapter.deliver(_outbound("Hello!", phone=None))
    assert nowhere.status == "failed" and "no WhatsApp number" in (nowhere.error or "")
    unsent = await adapter.deliver(_outbound("Hello!", phone=profile_phone, to=None))
    assert unsent.status == "failed" and "TWILIO_WHATSAPP_NUMBER" in (unsent.error or "")


async def test_a_long_reply_is_sent_in_parts_in_order(wa: WhatsApp) -> None:
    phone = new_phone()
    assert 1600 < len(LONG_REPLY) <= 3200
    receipt = await _adapter(wa).deliver(_outbound(LONG_REPLY, phone=phone))
    parts = wa.fake.bodies_to(f"whatsapp:{phone}")
    assert len(parts) == 2 and all(len(p) <= 1600 for p in parts)
    assert " ".join(parts) == LONG_REPLY
    assert parts[0].endswith("export.") and parts[1].startswith("Sentence number")
    sids = [s.sid for s in wa.fake.sent if s.to == f"whatsapp:{phone}"]
    assert receipt.status == "delivered" and receipt.provider_ref == ",".join(sids)


@pytest.mark.parametrize("failure", [500, 503, 429, "timeout"])
async def test_a_transient_twilio_failure_raises_provider_unavailable(
    wa: WhatsApp, failure: int | str
) -> None:
    phone = new_phone()
    wa.fake.slow_s = 1.0
    wa.fake.fail_next(failure, to=f"whatsapp:{phone}")
    with pytest.raises(ProviderUnavailable) as raised:
        await _adapter(wa, timeout_s=0.3).deliver(_outbound("Hi!", phone=phone))
    # Only a timeout leaves the outcome unknown: Twilio may have taken it (the fake does).
    assert raised.value.maybe_sent == (failure == "timeout")
    if failure != "timeout":
        assert wa.fake.bodies_to(f"whatsapp:{phone}") == []


async def test_an_unreachable_api_or_rejected_credentials_raise_provider_unavailable(
    wa: WhatsApp,
) -> None:
    with pytest.raises(ProviderUnavailable, match="unreachable") as raised:
        await _adapter(wa, api_base_url=f"http://127.0.0.1:{free_port()}").deliver(
            _outbound("Hi!", phone=new_phone()))
    assert not raised.value.maybe_sent  # refused: the request never reached Twilio
    with pytest.raises(ProviderUnavailable, match="20003"):
        await _adapter(wa, auth_token=SecretStr("wrong")).deliver(
            _outbound("Hi!", phone=new_phone()))


async def test_the_adapter_sends_only_the_parts_not_sent_and_stores_nothing(
    wa: WhatsApp,
) -> None:
    phone = new_phone()
    message = _outbound(LONG_REPLY, phone=phone)  # two parts
    settings = wa.settings.model_copy(update={"twilio": twilio_settings(wa.fake)})
    parts = [part async for part in
             WhatsAppAdapter(settings).send(message, sent={0: "SMsentbefore"})]
    assert parts[0] == SentPart(0, "SMsentbefore", new=False)
    assert parts[1].index == 1 and parts[1].new
    assert [s.sid for s in wa.fake.sent if s.to == f"whatsapp:{phone}"] == [parts[1].provider_ref]
    async with wa.pool.acquire() as conn:  # what to store is its caller's to store
        assert await whatsapp.sent_parts(conn, message.tenant_id, message.message_id) == {}


async def test_an_invalid_number_is_a_failed_receipt_that_does_not_quote_it(
    wa: WhatsApp,
) -> None:
    phone = new_phone()
    wa.fake.fail_next(21211, to=f"whatsapp:{phone}")
    receipt = await _adapter(wa).deliver(_outbound("Hi!", phone=phone))
    assert receipt.status == "failed" and receipt.provider_ref is None
    assert receipt.error is not None and "21211" in receipt.error and "HTTP 400" in receipt.error
    assert phone not in receipt.error and phone[1:] not in receipt.error


async def test_a_retry_after_a_failure_midway_does_not_resend_the_parts_sent(
    wa: WhatsApp,
) -> None:
    phone = new_phone()
    message = _outbound(LONG_REPLY + " " + LONG_REPLY, phone=phone)  # three parts
    adapter = _adapter(wa)
    wa.fake.fail_next("ok", 500, to=f"whatsapp:{phone}")
    with pytest.raises(ProviderUnavailable):
        await adapter.deliver(message)
    assert len(wa.fake.bodies_to(f"whatsapp:{phone}")) == 1
    wa.fake.fail_next("ok", 21610, to=f"whatsapp:{phone}")  # the 2nd goes, the 3rd is refused
    refused = await adapter.deliver(message)
    assert refused.status == "failed" and "21610" in (refused.error or "")
    first_two = [s.sid for s in wa.fake.sent if s.to == f"whatsapp:{phone}"]
    assert refused.provider_ref == ",".join(first_two) and len(first_two) == 2
    receipt = await adapter.deliver(message)
    sent = [s for s in wa.fake.sent if s.to == f"whatsapp:{phone}"]
    assert len(sent) == 3  # each part exactly once
    assert " ".join(s.body for s in sent) == message.body
    assert receipt.status == "delivered" and receipt.provider_ref == ",".join(s.sid for s in sent)
    again = await adapter.deliver(message)  # a redelivery after success sends nothing
    assert again.provider_ref == receipt.provider_ref
    assert len([s for s in wa.fake.sent if s.to == f"whatsapp:{phone}"]) == 3


# --- through the whole stack ----------------------------------------------------------------

async def test_a_whatsapp_message_is_answered_on_whatsapp(wa: WhatsApp) -> None:
    phone = new_phone()
    form = await wa.message(phone, "How do I export my tasks to CSV?")
    [reply] = await wa.replies_to(phone)
    assert reply.startswith("Hi Ada!") and "Dear" not in reply
    assert len(reply) <= 300  # the WhatsApp channel's limit (one message: 1,600)
    [sent] = [s for s in wa.fake.sent if s.to == f"whatsapp:{phone}"]
    assert (sent.from_, sent.status_callback) == (f"whatsapp:{OUR_NUMBER}", PUBLIC_URL + STATUS)

    async def delivered() -> Any:
        async with wa.pool.acquire() as conn:
            return await conn.fetchrow(
                "SELECT r.status, r.delivery_ref FROM messages r JOIN messages m "
                "ON r.in_reply_to = m.id WHERE m.external_id = $1 AND r.status = 'delivered'",
                form["MessageSid"])

    row = await wait_for(delivered)
    assert row["delivery_ref"] == sent.sid


async def test_quick_messages_from_one_customer_get_one_reply(wa: WhatsApp) -> None:
    phone = new_phone()
    forms = []
    for text in ("hi", "my export is stuck", "it's a csv"):
        forms.append(await wa.message(phone, text))
        await asyncio.sleep(0.5)  # as a customer types: each inside the turn window
    await wa.replies_to(phone)
    assert await _settled(wa, phone, inbound=3) == 1
    assert len(wa.fake.bodies_to(f"whatsapp:{phone}")) == 1
    sids = [f["MessageSid"] for f in forms]
    async with wa.pool.acquire() as conn:
        inbound = await conn.fetch(
            "SELECT id, status, tool_calls FROM messages WHERE external_id = ANY($1) "
            "ORDER BY created_at", sids)
        replies = await conn.fetch(
            "SELECT in_reply_to FROM messages WHERE role = 'agent' AND in_reply_to = ANY($1)",
            [m["id"] for m in inbound])
        links = await conn.fetch(
            "SELECT message_id, merged_into FROM whatsapp_merged_messages "
            "WHERE message_id = ANY($1) ORDER BY created_at", [m["id"] for m in inbound])
    assert [m["status"] for m in inbound] == ["processed"] * 3
    assert [r["in_reply_to"] for r in replies] == [inbound[2]["id"]]
    assert [(link["message_id"], link["merged_into"]) for link in links] == [
        (inbound[0]["id"], inbound[1]["id"]), (inbound[1]["id"], inbound[2]["id"])]
    searched = next(c["arguments"]["query"] for c in inbound[2]["tool_calls"]
                    if c["name"] == "search_knowledge_base")
    assert searched.split() == ["hi", "my", "export", "is", "stuck", "it's", "a", "csv"]


async def test_a_redelivered_turn_gets_no_second_reply(wa: WhatsApp) -> None:
    phone = new_phone()
    forms = [await wa.message(phone, "hello"),
             await wa.message(phone, "how do I reset my password?")]
    await wa.replies_to(phone)
    async with wa.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT m.id, m.content, m.metadata, m.created_at FROM messages m "
            "WHERE external_id = ANY($1)", [f["MessageSid"] for f in forms])
    for row in rows:  # the broker hands every event over again
        event = InboundMessage(tenant_id="techcorp", channel="whatsapp",
                               external_id=row["metadata"]["twilio_message_sid"],
                               content=row["content"], sender_phone=phone,
                               metadata=row["metadata"], received_at=row["created_at"],
                               message_id=row["id"])
        await wa.stack.producer.send_and_wait(
            wa.settings.kafka.topic_incoming, json.dumps(encode_event("inbound_message", event))
            .encode(), key=phone.encode())
    assert await _settled(wa, phone, inbound=4) == 1  # the two messages, each twice
    assert len(wa.fake.bodies_to(f"whatsapp:{phone}")) == 1


async def test_a_media_only_message_gets_the_text_only_note(wa: WhatsApp) -> None:
    phone = new_phone()
    form = await wa.message(phone, "", media=("image/jpeg", "application/pdf"))
    [reply] = await wa.replies_to(phone)
    assert reply.startswith("Hi Ada!") and reply.endswith(MEDIA_ONLY_REPLY)
    assert len(reply) <= 300
    row = await _inbound_row(wa.pool, form["MessageSid"])
    assert row["content"] == "[2 attachments: image/jpeg, application/pdf]"
    assert row["metadata"]["media_only"] is True
    assert row["status"] == "processed"


async def test_text_then_a_photo_is_answered_from_the_text(wa: WhatsApp) -> None:
    phone = new_phone()
    await wa.message(phone, "How do I reset my password?")
    await wa.message(phone, "", media=("image/png",))
    [reply] = await wa.replies_to(phone)
    assert await _settled(wa, phone, inbound=2) == 1
    assert wa.fake.bodies_to(f"whatsapp:{phone}") == [reply]
    assert MEDIA_ONLY_REPLY not in reply


# --- delivery status callbacks --------------------------------------------------------------

async def _delivered_sid(wa: WhatsApp) -> tuple[str, uuid.UUID]:
    phone = new_phone()
    form = await wa.message(phone, "Can I change my billing email?")
    await wa.replies_to(phone)
    sid = next(s.sid for s in wa.fake.sent if s.to == f"whatsapp:{phone}")

    async def delivered() -> uuid.UUID | None:
        async with wa.pool.acquire() as conn:
            found: uuid.UUID | None = await conn.fetchval(
                "SELECT r.id FROM messages r JOIN messages m ON r.in_reply_to = m.id "
                "WHERE m.external_id = $1 AND r.status = 'delivered'", form["MessageSid"])
            return found

    return sid, await wait_for(delivered)


async def _status_of(pool: Pool, message_id: uuid.UUID) -> tuple[str, list[tuple[str, Any]]]:
    async with pool.acquire() as conn:
        status = await conn.fetchval("SELECT delivery_status FROM messages WHERE id = $1",
                                     message_id)
        events = await conn.fetch("SELECT status, error_code FROM delivery_events "
                                  "WHERE message_id = $1 ORDER BY id", message_id)
    return status, [(e["status"], e["error_code"]) for e in events]


async def test_status_callbacks_record_delivery_and_never_move_back(wa: WhatsApp) -> None:
    sid, message_id = await _delivered_sid(wa)
    account = wa.fake.account_sid
    for status in ("delivered", "read", "sent", "delivered", "read"):
        res = await wa.post(STATUS, status_form(account, sid=sid, status=status))
        assert res.status_code == 200
    assert await _status_of(wa.pool, message_id) == (
        "read", [("delivered", None), ("read", None), ("sent", None)])


async def test_a_failed_delivery_is_recorded_with_its_error_code(wa: WhatsApp) -> None:
    sid, message_id = await _delivered_sid(wa)
    res = await wa.post(STATUS, status_form(wa.fake.account_sid, sid=sid,
                                            status="undelivered", error_code="63016"))
    assert res.status_code == 200
    assert await _status_of(wa.pool, message_id) == ("undelivered", [("undelivered", "63016")])


async def test_a_forged_status_callback_is_403_and_records_nothing(wa: WhatsApp) -> None:
    sid, message_id = await _delivered_sid(wa)
    before = await _status_of(wa.pool, message_id)
    form = status_form(wa.fake.account_sid, sid=sid, status="failed", error_code="30008")
    for how in ({"token": "0" * 32}, {"signature": ""}, {"url": wa.stack.base_url + STATUS}):
        res = await wa.post(STATUS, form, **how)
        assert res.status_code == 403
    assert await _status_of(wa.pool, message_id) == before


async def test_unknown_sids_and_statuses_are_accepted_and_ignored(wa: WhatsApp) -> None:
    async with wa.pool.acquire() as conn:
        before = await conn.fetchval("SELECT count(*) FROM delivery_events")
    unknown = await wa.post(STATUS, status_form(wa.fake.account_sid,
                                                sid="SM" + uuid.uuid4().hex, status="read"))
    assert unknown.status_code == 200
    sid, message_id = await _delivered_sid(wa)
    new_status = await wa.post(STATUS, status_form(wa.fake.account_sid, sid=sid,
                                                   status="partially_delivered"))
    assert new_status.status_code == 200
    malformed = await wa.post(STATUS, {"MessageSid": sid})
    assert malformed.status_code == 400 and "MessageStatus" in malformed.json()["detail"]
    async with wa.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM delivery_events") == before
    assert (await _status_of(wa.pool, message_id))[0] == "delivered"
