"""The Gmail channel against a local fake of Google (tests/fakes/gmail_api.py) that the real
google-api-python-client and google-auth talk to, with the real API, PostgreSQL and broker.

The module has its own database (`isolated_settings`) and fake mailbox, so row counts are exact:
the API runs without workers here, and nothing else writes to that database.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from production import bootstrap
from production.channels.base import ProviderUnavailable
from production.channels.gmail import (
    GmailAdapter,
    GmailClient,
    GmailNotConfigured,
    GmailUnavailable,
    load_credentials,
)
from production.channels.gmail_push import PushUnauthorized, PushVerifier
from production.channels.sandbox import SandboxAdapter
from production.cli import _cmd_gmail, build_parser
from production.config import GmailSettings, Settings
from production.database.pool import Pool, create_pool
from production.database.queries import gmail as mailboxes
from production.domain.delivery import OutboundMessage
from production.local_stack import EmbeddedPostgres, LocalBroker, free_port
from production.services.gmail_sync import (
    FULL_SYNC_QUERY,
    Mailbox,
    WatchResult,
    keep_watching,
    renew_watch,
    run_watch,
)
from tests.conftest import Stack, child_env, isolated_settings, running_stack, wait_for
from tests.fakes.gmail_api import (
    SUPPORT,
    TOPIC,
    FakeGmail,
    customer_mail,
    new_private_key,
)

WEBHOOK = "/api/v1/webhooks/gmail"
OTHER_KEY = new_private_key()


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGmail]:
    with FakeGmail(page_size=3) as server:  # small pages: history.list paging is exercised
        yield server


@pytest.fixture(scope="module")
async def gmail_settings(postgres: EmbeddedPostgres, broker: LocalBroker,
                         fake: FakeGmail) -> Settings:
    base = await isolated_settings(postgres, broker, "gmail")
    return base.model_copy(update={"gmail": fake.settings()})


@pytest.fixture(scope="module")
async def db(gmail_settings: Settings) -> AsyncIterator[Pool]:
    pool = await create_pool(gmail_settings, min_size=1, max_size=10)
    yield pool
    await pool.close()


@pytest.fixture(scope="module")
async def api(gmail_settings: Settings, db: Pool) -> AsyncIterator[Stack]:
    async with running_stack(gmail_settings, db, workers=False) as running:
        yield running


def bearer(fake: FakeGmail, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.sign_token(**claims)}"}


async def push(api: Stack, fake: FakeGmail, **kwargs: Any) -> Any:
    return await api.http.post(WEBHOOK, json=fake.push(**kwargs), headers=bearer(fake))


async def counts(api: Stack) -> tuple[int, int]:
    """(inbound email messages, outbox events for the incoming topic)."""
    async with api.pool.acquire() as conn:
        messages = await conn.fetchval(
            "SELECT count(*) FROM messages WHERE channel = 'email' AND direction = 'inbound'")
        events = await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = $1",
                                     api.settings.kafka.topic_incoming)
    return messages, events


async def stored(api: Stack, gmail_id: str) -> Any:
    async with api.pool.acquire() as conn:
        return await conn.fetchrow(
            "SELECT m.content, m.subject, m.metadata, c.email, c.name FROM messages m "
            "JOIN customers c ON c.id = m.customer_id "
            "WHERE m.channel = 'email' AND m.direction = 'inbound' AND m.external_id = $1",
            gmail_id)


def customer(name: str = "Ada") -> str:
    return f"{name} <{name.lower()}.{uuid.uuid4().hex[:8]}@example.com>"


# --- the webhook: a valid push ----------------------------------------------------------------

async def test_valid_push_stores_the_cleaned_mail_and_queues_it(api: Stack,
                                                                fake: FakeGmail) -> None:
    sender = customer("Grace")
    original = customer_mail(sender, "Export fails", "Hi,\nthe CSV export fails again.\n\n"
                             "Thanks,\nGrace\n\nOn Mon, Jun 3, 2024 at 9:00 AM TechCorp Support "
                             f"<{SUPPORT}> wrote:\n> Please retry.\n",
                             html="<p>Hi,</p><p>the CSV export fails again.</p>",
                             References="<older@mail.example.com>",
                             In_Reply_To="<older@mail.example.com>")
    gmail_id = fake.receive(original)
    before = await counts(api)

    res = await push(api, fake)

    assert res.status_code == 200, res.text
    assert res.json()["stored"] >= 1
    assert await counts(api) == (before[0] + 1, before[1] + 1)
    row = await stored(api, gmail_id)
    assert row["content"] == "Hi,\nthe CSV export fails again.\n\nThanks,\nGrace"
    assert row["subject"] == "Export fails"
    assert row["email"] == sender.split("<")[1].rstrip(">")
    assert row["name"] == "Grace"
    assert row["metadata"]["gmail_thread_id"] == fake.messages[gmail_id].thread_id
    assert row["metadata"]["message_id_header"] == original["Message-ID"]
    assert row["metadata"]["references"] == "<older@mail.example.com>"
    async with api.pool.acquire() as conn:
        event = await conn.fetchval(
            "SELECT payload FROM outbox WHERE topic = $1 ORDER BY id DESC LIMIT 1",
            api.settings.kafka.topic_incoming)
    assert event["type"] == "inbound_message"
    assert event["data"]["external_id"] == gmail_id
    assert event["data"]["channel"] == "email"
    async with api.pool.acquire() as conn:
        mailbox = await mailboxes.get_mailbox(conn, "techcorp", SUPPORT)
    assert mailbox is not None and mailbox.history_id == fake.history_id


# --- the webhook: authentication ---------------------------------------------------------------

BAD_TOKENS: list[tuple[str, dict[str, Any] | None]] = [
    ("forged", {"key": OTHER_KEY}),
    ("wrong audience", {"audience": "https://evil.example/webhook"}),
    ("wrong issuer", {"issuer": "https://evil.example"}),
    ("wrong service account", {"email": "someone@evil.iam.gserviceaccount.com"}),
    ("email not verified", {"email_verified": False}),
    ("expired", {"expires_in": -120}),
    ("unknown key id", {"key": OTHER_KEY, "key_id": "rotated-key-9"}),
    ("missing", None),
]


@pytest.mark.parametrize(("case", "claims"), BAD_TOKENS, ids=[c for c, _ in BAD_TOKENS])
async def test_a_push_without_a_valid_token_is_401_and_stores_nothing(
        api: Stack, fake: FakeGmail, case: str, claims: dict[str, Any] | None) -> None:
    gmail_id = fake.receive(customer_mail(customer(), "Please help", "My login fails."))
    before = await counts(api)
    gmail_calls = len(fake.requests) - len(fake.calls("certs"))
    headers = {} if claims is None else bearer(fake, **claims)

    res = await api.http.post(WEBHOOK, json=fake.push(), headers=headers)

    assert res.status_code == 401, res.text
    assert res.headers["www-authenticate"] == "Bearer"
    assert res.json()["detail"].startswith("unauthorized")
    assert await counts(api) == before
    assert len(fake.requests) - len(fake.calls("certs")) == gmail_calls  # Gmail not called
    # The same push with a valid token stores that mail: the 401 was the token's doing.
    assert (await push(api, fake)).status_code == 200
    assert await stored(api, gmail_id) is not None


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt",
                                    "Bearer a.b"])
async def test_malformed_authorization_headers_are_401(api: Stack, fake: FakeGmail,
                                                       header: str) -> None:
    before = await counts(api)
    res = await api.http.post(WEBHOOK, json=fake.push(), headers={"Authorization": header})
    assert res.status_code == 401
    assert await counts(api) == before


async def test_certificates_are_downloaded_once_and_cached(api: Stack, fake: FakeGmail) -> None:
    await push(api, fake)  # the first verification may have fetched them already
    fetched = len(fake.calls("certs"))
    for _ in range(3):
        assert (await push(api, fake)).status_code == 200
    assert len(fake.calls("certs")) == fetched >= 1


async def test_unknown_key_id_refetches_certificates_at_most_every_30_s(
        fake: FakeGmail) -> None:
    verifier = PushVerifier(fake.settings())
    await verifier.verify(f"Bearer {fake.sign_token()}")
    fetched = len(fake.calls("certs"))
    for _ in range(3):
        with pytest.raises(PushUnauthorized, match="not found"):
            await verifier.verify(f"Bearer {fake.sign_token(key=OTHER_KEY, key_id='new-key')}")
    assert len(fake.calls("certs")) == fetched  # within 30 s of the last download: no refetch


async def test_certificate_endpoint_failures_are_gmail_unavailable(fake: FakeGmail) -> None:
    verifier = PushVerifier(fake.settings())
    fake.fail_next("certs", 500)
    with pytest.raises(GmailUnavailable, match="certificates endpoint answered 500"):
        await verifier.verify(f"Bearer {fake.sign_token()}")
    broken = PushVerifier(fake.settings(oidc_certs_url=f"{fake.base_url}gmail/v1/users/me/x"))
    with pytest.raises(GmailUnavailable):
        await broken.verify(f"Bearer {fake.sign_token()}")
    refused = PushVerifier(fake.settings(oidc_certs_url=f"http://127.0.0.1:{free_port()}/c"))
    with pytest.raises(GmailUnavailable, match="could not be fetched"):
        await refused.verify(f"Bearer {fake.sign_token()}")


# --- the webhook: malformed bodies --------------------------------------------------------------

def _envelope(data: Any, *, encode: bool = True) -> dict[str, Any]:
    raw = json.dumps(data).encode() if not isinstance(data, bytes) else data
    return {"message": {"data": base64.b64encode(raw).decode() if encode else data,
                        "messageId": "1"}, "subscription": "s"}


MALFORMED: list[tuple[str, Any, str]] = [
    ("not json", b"{not json", "not JSON"),
    ("json array", [1, 2], "no message.data"),
    ("no message", {"subscription": "s"}, "no message.data"),
    ("no data", {"message": {"messageId": "1"}}, "no message.data"),
    ("data not base64", _envelope("%%%not base64%%%", encode=False), "not base64"),
    ("data not json", _envelope(b"plain text"), "not base64-encoded JSON"),
    ("data not an object", _envelope([SUPPORT, 5]), "not a JSON object"),
    ("no historyId", _envelope({"emailAddress": SUPPORT}), "historyId"),
    ("historyId not a number", _envelope({"emailAddress": SUPPORT, "historyId": "12a"}),
     "historyId"),
    ("historyId boolean", _envelope({"emailAddress": SUPPORT, "historyId": True}), "historyId"),
    ("no emailAddress", _envelope({"historyId": 5}), "emailAddress"),
]


@pytest.mark.parametrize(("case", "body", "reason"), MALFORMED, ids=[c for c, _, _ in MALFORMED])
async def test_a_malformed_push_is_400_with_a_reason_and_stores_nothing(
        api: Stack, fake: FakeGmail, case: str, body: Any, reason: str) -> None:
    fake.receive(customer_mail(customer(), "Pending", "This waits for a valid push."))
    before = await counts(api)
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    res = await api.http.post(WEBHOOK, content=content,
                              headers={**bearer(fake), "content-type": "application/json"})
    assert res.status_code == 400, res.text
    assert reason in res.json()["detail"]
    assert await counts(api) == before


async def test_a_push_for_another_mailbox_is_acknowledged_and_ignored(
        api: Stack, fake: FakeGmail) -> None:
    fake.receive(customer_mail(customer(), "Pending", "This waits for a valid push."))
    before, calls = await counts(api), len(fake.calls("history.list"))
    res = await push(api, fake, email="someone-else@techcorp.example")
    assert res.status_code == 200
    assert res.json() == {"status": "ignored", "reason": "not the support mailbox"}
    assert await counts(api) == before
    assert len(fake.calls("history.list")) == calls


# --- the webhook: exactly once ----------------------------------------------------------------

async def test_the_same_notification_twice_stores_the_mail_once(api: Stack,
                                                                fake: FakeGmail) -> None:
    gmail_id = fake.receive(customer_mail(customer(), "Twice", "Is this stored twice?"))
    envelope = fake.push()
    first = await api.http.post(WEBHOOK, json=envelope, headers=bearer(fake))
    after_first = await counts(api)
    second = await api.http.post(WEBHOOK, json=envelope, headers=bearer(fake))
    assert first.status_code == second.status_code == 200
    assert second.json()["mode"] == "up_to_date"
    assert await counts(api) == after_first
    assert await stored(api, gmail_id) is not None


async def test_concurrent_notifications_on_two_api_processes_fetch_each_mail_once(
        api: Stack, fake: FakeGmail, gmail_settings: Settings, db: Pool) -> None:
    await push(api, fake)  # start from a synced mailbox
    ids = [fake.receive(customer_mail(customer(), f"Burst {i}", f"Message number {i}."))
           for i in range(4)]
    before, gets = await counts(api), len(fake.calls("messages.get"))
    fake.delay("messages.get", 0.1)  # widen the window in which syncs could overlap
    try:
        # A second API server: its in-process locks are its own, only the row lock is shared.
        async with running_stack(gmail_settings, db, workers=False) as other:
            results = await asyncio.gather(*[
                (api if i % 2 else other).http.post(WEBHOOK, json=fake.push(),
                                                    headers=bearer(fake))
                for i in range(6)])
    finally:
        fake.delay("messages.get", 0)
    assert [r.status_code for r in results] == [200] * 6
    assert sum(r.json()["stored"] for r in results) == 4
    assert await counts(api) == (before[0] + 4, before[1] + 4)
    assert len(fake.calls("messages.get")) - gets == 4  # no mail fetched twice
    for gmail_id in ids:
        assert await stored(api, gmail_id) is not None


async def test_history_id_only_moves_forward(api: Stack, fake: FakeGmail) -> None:
    await push(api, fake)
    async with api.pool.acquire() as conn, conn.transaction():
        await mailboxes.lock_mailbox(conn, "techcorp", SUPPORT)
        kept = await mailboxes.advance_history(conn, "techcorp", SUPPORT, 5)
    assert kept == fake.history_id


async def test_a_lost_history_id_falls_back_to_a_full_sync_of_recent_mail(
        api: Stack, fake: FakeGmail) -> None:
    seen = fake.receive(customer_mail(customer(), "Seen", "Already stored before."))
    assert (await push(api, fake)).status_code == 200
    old = fake.receive(customer_mail(customer(), "Old", "Eight days ago."),
                       age=dt.timedelta(days=8))
    archived = fake.receive(customer_mail(customer(), "Archived", "Not in the inbox."),
                            labels=("CATEGORY_UPDATES",))
    new = fake.receive(customer_mail(customer(), "New", "Arrived while history was lost."))
    fake.forget_history()
    before = await counts(api)

    res = await push(api, fake)

    assert res.status_code == 200, res.text
    body = res.json()
    assert body["mode"] == "full"
    assert body["stored"] == 1
    assert body["duplicates"] >= 1  # `seen` was listed again and not stored twice
    assert await counts(api) == (before[0] + 1, before[1] + 1)
    assert await stored(api, new) is not None
    assert await stored(api, old) is None and await stored(api, archived) is None
    assert await stored(api, seen) is not None
    listed = fake.calls("messages.list")[-1].query
    assert listed["q"] == [FULL_SYNC_QUERY]
    assert listed["maxResults"] == [str(api.settings.gmail.full_sync_max_messages)]
    # The mailbox goes on from the profile's historyId: the next push is a history sync.
    later = fake.receive(customer_mail(customer(), "Later", "After the full sync."))
    res = await push(api, fake)
    assert res.json()["mode"] == "history"
    assert await stored(api, later) is not None


async def test_auto_replies_bounces_and_own_mail_are_not_stored(api: Stack,
                                                                fake: FakeGmail) -> None:
    await push(api, fake)
    ignored = [
        fake.receive(customer_mail(customer(), "Out of Office: back Monday", "I am away.")),
        fake.receive(customer_mail(customer(), "Re: Export", "Away.",
                                   Auto_Submitted="auto-replied")),
        fake.receive(customer_mail(customer(), "Re: Export", "Away.", X_Autoreply="yes")),
        fake.receive(customer_mail(customer(), "Newsletter", "News.", Precedence="bulk")),
        fake.receive(customer_mail("Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
                                   "Delivery Status Notification (Failure)",
                                   "Address not found.")),
        fake.receive(customer_mail(f"TechCorp Support <{SUPPORT}>", "Note to self",
                                   "A copy of our own mail.")),
        fake.receive(customer_mail(customer(), "Spam", "Buy now."), labels=("SPAM",)),
        fake.receive(customer_mail(customer(), "Empty", "   ")),
        fake.receive(b"From: someone@example.com\nSubject:\n\n  \n"),
        fake.receive(b"From: Just A Name\nSubject: Hello\n\nNo address to answer to.\n"),
    ]
    fake.receive(customer_mail(f"TechCorp Support <{SUPPORT}>", "Re: Export",
                               "Our reply, as Gmail stores a sent message."), labels=("SENT",))
    answered = fake.receive(customer_mail(customer(), "Real question", "How do I export?"))
    before = await counts(api)

    res = await push(api, fake)

    assert res.status_code == 200
    skipped = res.json()["skipped"]
    assert skipped == {"auto_reply": 4, "bounce": 1, "own_mail": 2, "spam": 1, "empty": 1,
                       "no_sender": 1}
    assert res.json()["stored"] == 2  # the real question, and the subject-only "Empty" mail
    assert await counts(api) == (before[0] + 2, before[1] + 2)
    assert await stored(api, answered) is not None
    for gmail_id in ignored[:7] + ignored[8:]:
        assert await stored(api, gmail_id) is None
    assert (await stored(api, ignored[7]))["content"] == "Empty"  # the subject is the request


async def test_a_deleted_message_is_skipped(api: Stack, fake: FakeGmail) -> None:
    await push(api, fake)
    gone = fake.receive(customer_mail(customer(), "Gone", "Deleted before we read it."))
    fake.delete(gone)
    res = await push(api, fake)
    assert res.json()["skipped"] == {"gone": 1}
    assert await stored(api, gone) is None


async def test_gmail_unavailable_is_503_and_the_next_push_catches_up(
        api: Stack, fake: FakeGmail) -> None:
    await push(api, fake)
    first = fake.receive(customer_mail(customer(), "One", "First of two."))
    second = fake.receive(customer_mail(customer(), "Two", "Second of two."))
    before = await counts(api)
    fake.fail_next("history.list", 500)
    res = await push(api, fake)
    assert res.status_code == 503
    assert res.headers["retry-after"]
    assert await counts(api) == before
    fake.fail_next("messages.get", "ok", 429)  # the first mail is stored, the second fails
    res = await push(api, fake)
    assert res.status_code == 503
    assert await counts(api) == (before[0] + 1, before[1] + 1)
    res = await push(api, fake)  # Pub/Sub's redelivery
    assert res.status_code == 200
    assert res.json()["stored"] == 1 and res.json()["duplicates"] == 1
    assert await counts(api) == (before[0] + 2, before[1] + 2)
    assert await stored(api, first) is not None and await stored(api, second) is not None


async def test_gmail_refusing_the_sync_is_502(api: Stack, fake: FakeGmail) -> None:
    fake.receive(customer_mail(customer(), "Refused", "History refused."))
    fake.fail_next("history.list", 400)
    res = await push(api, fake)
    assert res.status_code == 502
    assert "Gmail refused" in res.json()["detail"]
    fake.receive(customer_mail(customer(), "Refused", "Get refused."))
    fake.fail_next("messages.get", 403)
    res = await push(api, fake)
    assert res.status_code == 200
    assert res.json()["skipped"].get("refused") == 1


async def test_not_configured_is_503_and_disabled_channel_is_404(
        stack: Stack, gmail_settings: Settings, db: Pool, fake: FakeGmail) -> None:
    res = await stack.http.post(WEBHOOK, json=fake.push(), headers=bearer(fake))
    assert res.status_code == 503
    assert res.json()["detail"] == ("the email channel is not configured: "
                                    "GMAIL_CREDENTIALS_JSON is not set")
    no_audience = gmail_settings.model_copy(update={
        "gmail": fake.settings(pubsub_audience=None)})
    no_credentials = gmail_settings.model_copy(update={
        "gmail": fake.settings(credentials_json=None)})
    disabled = gmail_settings.model_copy(update={"enabled_channels": ["web_form", "whatsapp"]})
    no_certs = gmail_settings.model_copy(update={"gmail": fake.settings(
        oidc_certs_url=f"http://127.0.0.1:{free_port()}/certs")})
    for settings, status, detail in [
        (no_audience, 503, "GMAIL_PUBSUB_AUDIENCE and GMAIL_PUBSUB_SERVICE_ACCOUNT must be set"),
        (no_certs, 503, "Gmail is unavailable, please retry"),
        (no_credentials, 503, "GMAIL_CREDENTIALS_JSON is not set"),
        (disabled, 404, "the email channel is not enabled"),
    ]:
        async with running_stack(settings, db, workers=False) as other:
            res = await other.http.post(WEBHOOK, json=fake.push(), headers=bearer(fake))
            assert res.status_code == status
            assert detail in res.json()["detail"]


# --- delivery -----------------------------------------------------------------------------------

def outbound(**overrides: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "tenant_id": "techcorp", "message_id": uuid.uuid4(), "channel": "email",
        "recipient": "ada@example.com", "recipient_name": "Ada Lovelace",
        "subject": "Export fails", "body": "Hi Ada,\n\nPlease update to 2.4.\n\nTechCorp Support",
    }
    values.update(overrides)
    return OutboundMessage(**values)


async def test_a_reply_goes_out_in_the_customers_thread(fake: FakeGmail) -> None:
    original = customer_mail("Ada Lovelace <ada@example.com>", "Export fails", "It fails.",
                             References="<first@mail.example.com>")
    gmail_id = fake.receive(original)
    thread = fake.messages[gmail_id].thread_id
    message = outbound(reply_to_external_id=gmail_id, reply_to_metadata={
        "gmail_thread_id": thread, "message_id_header": original["Message-ID"],
        "references": "<first@mail.example.com>"})

    receipt = await GmailAdapter(fake.settings()).deliver(message)

    assert receipt.status == "delivered"
    sent = fake.sent[-1]
    assert receipt.provider_ref == sent.id
    assert sent.requested_thread_id == thread and sent.thread_id == thread
    mail = sent.message
    assert mail["From"] == SUPPORT
    assert mail["To"].addresses[0].addr_spec == "ada@example.com"
    assert mail["To"].addresses[0].display_name == "Ada Lovelace"
    assert mail["Subject"] == "Re: Export fails"
    assert mail["In-Reply-To"] == original["Message-ID"]
    assert mail["References"] == f"<first@mail.example.com> {original['Message-ID']}"
    assert mail["Message-ID"] == f"<fte-{message.message_id}@techcorp.example>"
    assert mail.get_content().replace("\r\n", "\n") == message.body + "\n"


async def test_a_reply_to_a_re_subject_and_without_thread_metadata(fake: FakeGmail) -> None:
    receipt = await GmailAdapter(fake.settings()).deliver(outbound(subject="RE: Export fails"))
    assert receipt.status == "delivered"
    sent = fake.sent[-1]
    assert sent.requested_thread_id is None
    assert sent.message["Subject"] == "Re: Export fails"
    assert sent.message["In-Reply-To"] is None


async def test_service_account_credentials_act_as_the_support_address(fake: FakeGmail) -> None:
    settings = fake.settings(credentials_json=SecretStr(fake.credentials_json("service_account")))
    receipt = await GmailAdapter(settings).deliver(outbound())
    assert receipt.status == "delivered"
    grant = fake.token_grants[-1]
    assert grant["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_transient_send_failures_raise_provider_unavailable(fake: FakeGmail,
                                                                  status: int) -> None:
    sent = len(fake.sent)
    fake.fail_next("messages.send", status)
    with pytest.raises(ProviderUnavailable, match=str(status)) as raised:
        await GmailAdapter(fake.settings()).deliver(outbound())
    assert len(fake.sent) == sent
    assert not raised.value.maybe_sent  # Gmail answered: nothing went out


async def test_a_timeout_or_a_dead_endpoint_raises_provider_unavailable(fake: FakeGmail) -> None:
    adapter = GmailAdapter(fake.settings(timeout_s=0.3))
    await adapter.deliver(outbound())  # refresh the token first
    fake.delay("messages.send", 1.0)
    try:
        with pytest.raises(ProviderUnavailable, match=r"timed out|Timeout") as raised:
            await adapter.deliver(outbound())
    finally:
        fake.delay("messages.send", 0)
    assert raised.value.maybe_sent  # Gmail may have taken it: the outcome is unknown
    dead = GmailAdapter(fake.settings(api_base_url=f"http://127.0.0.1:{free_port()}/"))
    with pytest.raises(ProviderUnavailable, match=r"Connection|refused") as refused:
        await dead.deliver(outbound())
    assert not refused.value.maybe_sent


async def test_a_refused_token_refresh_raises_provider_unavailable(fake: FakeGmail) -> None:
    info = json.loads(fake.credentials_json())
    info["refresh_token"] = "1//revoked"
    settings = fake.settings(credentials_json=SecretStr(json.dumps(info)))
    with pytest.raises(ProviderUnavailable, match="token refresh failed"):
        await GmailAdapter(settings).deliver(outbound())


async def test_permanent_refusals_are_failed_receipts(fake: FakeGmail) -> None:
    adapter = GmailAdapter(fake.settings())
    fake.fail_next("messages.send", 400)
    receipt = await adapter.deliver(outbound())
    assert receipt.status == "failed" and receipt.error and "400" in receipt.error
    invalid = await adapter.deliver(outbound(recipient="not-an-address", recipient_name=None))
    assert invalid.status == "failed" and "Invalid To header" in (invalid.error or "")
    sent = len(fake.sent)
    nobody = await adapter.deliver(outbound(recipient=None))
    assert nobody.status == "failed" and len(fake.sent) == sent


def test_credentials_are_checked_when_the_client_is_built(fake: FakeGmail) -> None:
    for value, reason in [
        (None, "not set"), ("{oops", "not JSON"), ("[1]", "JSON object"),
        ('{"type": "external_account"}', "not supported"),
        ('{"type": "authorized_user", "client_id": "x"}', "incomplete"),
        ('{"type": "service_account", "client_email": "x"}', "incomplete"),
    ]:
        settings = fake.settings(credentials_json=SecretStr(value) if value else None)
        with pytest.raises(GmailNotConfigured, match=reason):
            load_credentials(settings)


def test_the_dispatcher_uses_gmail_only_when_configured(fake: FakeGmail,
                                                       gmail_settings: Settings) -> None:
    assert isinstance(bootstrap.delivery_adapters(gmail_settings)["email"], GmailAdapter)
    unconfigured = gmail_settings.model_copy(update={"gmail": GmailSettings()})
    assert isinstance(bootstrap.delivery_adapters(unconfigured)["email"], SandboxAdapter)


# --- fte gmail watch ----------------------------------------------------------------------------

async def _watch_state(db: Pool, address: str) -> Any:
    async with db.acquire() as conn:
        return await mailboxes.get_mailbox(conn, "techcorp", address)


async def test_watch_stores_history_and_expiration_and_renews_only_when_due(
        gmail_settings: Settings, db: Pool) -> None:
    # A mailbox of its own (a row of its own), never watched before.
    with FakeGmail(address="watched@techcorp.example") as fake:
        settings = gmail_settings.model_copy(update={"gmail": fake.settings()})
        emitted: list[dict[str, Any]] = []
        assert await _watch_state(db, fake.address) is None
        assert await run_watch(settings=settings, force=False, loop=False, emit=emitted.append) == 0
        first = await _watch_state(db, fake.address)
        assert first.history_id == fake.history_id
        assert first.watch_expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(days=6)
        assert emitted[-1]["renewed"] is True
        assert emitted[-1]["history_id"] == str(fake.history_id)
        assert fake.watches == [{"topicName": TOPIC, "labelIds": ["INBOX"],
                                 "labelFilterBehavior": "include"}]

        assert await run_watch(settings=settings, force=False, loop=False, emit=emitted.append) == 0
        assert emitted[-1]["renewed"] is False and len(fake.watches) == 1
        renew_at = dt.datetime.fromisoformat(emitted[-1]["renew_at"])
        assert renew_at == first.watch_expires_at - dt.timedelta(days=1)

        # Mail arrived since: a forced renewal must not skip it by moving history on.
        fake.receive(customer_mail(customer(), "Unsynced", "Not read yet."))
        assert await run_watch(settings=settings, force=True, loop=False, emit=emitted.append) == 0
        assert emitted[-1]["renewed"] is True and len(fake.watches) == 2
        assert (await _watch_state(db, fake.address)).history_id == first.history_id

        # Due: the watch expires within watch_renew_before_s.
        mailbox = Mailbox.from_settings(settings)
        client = GmailClient(settings.gmail)
        result = await renew_watch(pool=db, client=client, mailbox=mailbox, topic=TOPIC,
                                   renew_before_s=8 * 86_400, now=dt.datetime.now(dt.UTC))
        assert result.renewed and len(fake.watches) == 3
        not_due = await renew_watch(pool=db, client=client, mailbox=mailbox, topic=TOPIC,
                                    renew_before_s=86_400,
                                    now=dt.datetime.now(dt.UTC) + dt.timedelta(days=5))
        assert not not_due.renewed
        due = await renew_watch(pool=db, client=client, mailbox=mailbox, topic=TOPIC,
                                renew_before_s=86_400,
                                now=dt.datetime.now(dt.UTC) + dt.timedelta(days=6, hours=1))
        assert due.renewed and len(fake.watches) == 4


async def test_watch_loop_keeps_renewing_and_survives_a_failure(
        gmail_settings: Settings, db: Pool, fake: FakeGmail) -> None:
    results: list[WatchResult] = []
    stopping = asyncio.Event()

    def emit(result: WatchResult) -> None:
        results.append(result)
        if len(results) == 3:
            stopping.set()

    watches = len(fake.watches)
    fake.fail_next("watch", 503)
    await asyncio.wait_for(keep_watching(
        pool=db, client=GmailClient(gmail_settings.gmail),
        mailbox=Mailbox.from_settings(gmail_settings), topic=TOPIC,
        renew_before_s=8 * 86_400,  # longer than a watch lives: always due
        force=False, stopping=stopping, emit=emit, retry_s=0.05, min_sleep_s=0.05), 20)
    assert [r.renewed for r in results] == [True] * 3
    assert len(fake.watches) - watches == 3
    assert [c.status for c in fake.calls("watch")][-4:] == [503, 200, 200, 200]


async def test_watch_cli_refuses_without_a_topic(gmail_settings: Settings, fake: FakeGmail,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    settings = gmail_settings.model_copy(update={"gmail": fake.settings(pubsub_topic=None)})
    args = build_parser().parse_args(["gmail", "watch"])
    # In a thread: the command runs its own event loop, as it does from the shell.
    assert await asyncio.to_thread(_cmd_gmail, settings, args) == 2
    assert "GMAIL_PUBSUB_TOPIC is not set" in capsys.readouterr().err


def _gmail_env(settings: Settings, fake: FakeGmail) -> dict[str, str]:
    gmail = fake.settings()
    assert gmail.credentials_json is not None
    return child_env(settings, GMAIL_CREDENTIALS_JSON=gmail.credentials_json.get_secret_value(),
                     GMAIL_API_BASE_URL=gmail.api_base_url, GMAIL_TOKEN_URI=fake.token_uri,
                     GMAIL_PUBSUB_TOPIC=TOPIC, GMAIL_SUPPORT_ADDRESS=SUPPORT)


async def test_fte_gmail_watch_runs_as_a_command(gmail_settings: Settings,
                                                 fake: FakeGmail) -> None:
    env = _gmail_env(gmail_settings, fake)
    watches = len(fake.watches)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "production.cli", "gmail", "watch", "--force", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["renewed"] is True
    assert dt.datetime.fromisoformat(result["expires_at"]) > dt.datetime.now(dt.UTC)
    assert len(fake.watches) == watches + 1

    # --loop: renews when due, then sleeps until the next renewal; SIGTERM ends it cleanly.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "production.cli", "gmail", "watch", "--loop", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert json.loads(line)["renewed"] is False  # renewed a moment ago: not due yet
    proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == 0

    env["GMAIL_API_BASE_URL"] = f"http://127.0.0.1:{free_port()}/"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "production.cli", "gmail", "watch", "--force", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert "fte gmail watch:" in err.decode()


# --- end to end ---------------------------------------------------------------------------------

async def test_an_email_is_answered_in_its_gmail_thread_end_to_end(
        postgres: EmbeddedPostgres, broker: LocalBroker) -> None:
    with FakeGmail() as fake:
        base = await isolated_settings(postgres, broker, "gmaile2e")
        settings = base.model_copy(update={"gmail": fake.settings()})
        db = await create_pool(settings, min_size=1, max_size=10)
        try:
            async with running_stack(settings, db) as stack:
                original = customer_mail("Ada Lovelace <ada.e2e@example.com>",
                                         "How do I reset my password?",
                                         "Hello, how do I reset my password? The reset email "
                                         "never arrives.\n\nThanks, Ada")
                gmail_id = fake.receive(original)
                res = await stack.http.post(WEBHOOK, json=fake.push(), headers=bearer(fake))
                assert res.status_code == 200, res.text

                async def replied() -> bool:
                    return bool(fake.sent)

                await wait_for(replied, timeout_s=30)
                sent = fake.sent[0]
                assert sent.requested_thread_id == fake.messages[gmail_id].thread_id
                mail = sent.message
                assert mail["To"].addresses[0].addr_spec == "ada.e2e@example.com"
                assert mail["Subject"] == "Re: How do I reset my password?"
                assert mail["In-Reply-To"] == original["Message-ID"]
                assert mail["References"] == original["Message-ID"]
                assert "password" in mail.get_content().lower()

                async def delivered() -> Any:
                    async with db.acquire() as conn:
                        return await conn.fetchrow(
                            "SELECT delivery_ref, status FROM messages WHERE channel = 'email' "
                            "AND direction = 'outbound' AND status = 'delivered'")

                row = await wait_for(delivered, timeout_s=10)
                assert row["delivery_ref"] == sent.id

                # Our reply is now in the mailbox's history (SENT): it is not read as a
                # customer message, so the agent never answers itself. The webhook stores
                # what it accepts before it answers: nothing new is there to be answered.
                res = await stack.http.post(WEBHOOK, json=fake.push(), headers=bearer(fake))
                assert res.json()["skipped"] == {"own_mail": 1}
                async with db.acquire() as conn:
                    inbound = await conn.fetchval(
                        "SELECT count(*) FROM messages WHERE direction = 'inbound'")
                    queued = await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = $1",
                                                 settings.kafka.topic_incoming)
                assert (inbound, queued) == (1, 1)
                assert len(fake.sent) == 1
        finally:
            await db.close()
