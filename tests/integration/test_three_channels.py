"""One person on all three channels, end to end: the web form, then email, then WhatsApp.

The real stack (API, worker, dispatcher, relay on the real broker and PostgreSQL) with Gmail and
Twilio configured against local fakes that the real client libraries talk to. The result must
be one customer with one history, each reply on the channel the customer used (the Gmail thread,
the WhatsApp number, the ticket page), and later replies acknowledging the earlier contact.
"""

from __future__ import annotations

import random
import string
from typing import Any

from production.database.pool import create_pool
from production.local_stack import EmbeddedPostgres, LocalBroker
from tests.conftest import (
    form,
    isolated_settings,
    read_ticket,
    running_stack,
    status_link,
    wait_for,
)
from tests.fakes.gmail_api import FakeGmail, customer_mail
from tests.fakes.twilio_api import FakeTwilio, inbound_form, sign
from tests.integration.test_whatsapp_channel import (
    INBOUND,
    OUR_NUMBER,
    PUBLIC_URL,
    new_phone,
    twilio_settings,
)

GMAIL_WEBHOOK = "/api/v1/webhooks/gmail"


async def test_one_customer_across_web_form_email_and_whatsapp(
    postgres: EmbeddedPostgres, broker: LocalBroker,
) -> None:
    tag = "".join(random.choices(string.ascii_lowercase, k=8))
    address = f"ada.{tag}@example.com"
    phone = new_phone()
    with FakeGmail() as gmail:
        async with FakeTwilio() as twilio:
            base = await isolated_settings(postgres, broker, "threech")
            settings = base.model_copy(update={
                "gmail": gmail.settings(),
                "twilio": twilio_settings(twilio, turn_window_s=0.2),
                "api": base.api.model_copy(update={"public_url": PUBLIC_URL}),
            })
            pool = await create_pool(settings, min_size=1, max_size=10)
            try:
                async with running_stack(settings, pool) as stack:
                    # 1. The web form, with the email and the phone number (spaced as typed).
                    res = await stack.http.post("/api/v1/support/form", json=form(
                        name="Ada Lovelace", email=address,
                        phone=f"{phone[:3]} {phone[3:7]} {phone[7:]}",
                        subject="Cannot reset my password",
                        message="Hello, how do I reset my password? The email never arrives."))
                    assert res.status_code == 201, res.text
                    ticket, token = res.json()["ticket_id"], res.json()["access_token"]

                    async def form_reply() -> str | None:
                        view = (await read_ticket(stack.http, ticket, token)).json()
                        return next((m["content"] for m in view["messages"]
                                     if m["author"] == "agent" and m["delivered_at"]), None)

                    first = await wait_for(form_reply, timeout_s=30)
                    assert "password" in first.lower()

                    # 2. Email, from the same address written differently, in its own thread.
                    original = customer_mail(
                        f"Ada Lovelace <{address.upper()}>", "Slack notifications",
                        "Hi, how do I connect Slack so task updates show up in our channel?"
                        "\n\nThanks, Ada")
                    gmail_id = gmail.receive(original)
                    res = await stack.http.post(GMAIL_WEBHOOK, json=gmail.push(), headers={
                        "Authorization": f"Bearer {gmail.sign_token()}"})
                    assert res.status_code == 200, res.text

                    async def mailed() -> Any:
                        return gmail.sent[0] if gmail.sent else None

                    sent = await wait_for(mailed, timeout_s=30)
                    mail = sent.message
                    assert sent.requested_thread_id == gmail.messages[gmail_id].thread_id
                    assert mail["In-Reply-To"] == original["Message-ID"]
                    assert mail["To"].addresses[0].addr_spec == address
                    email_reply = mail.get_content()
                    assert "slack" in email_reply.lower()
                    assert "via our web form" in email_reply  # acknowledges the form
                    # The reply links to its own ticket's status page, which its token opens.
                    assert f"{PUBLIC_URL}/support/tickets/" in email_reply
                    email_ticket, email_token = status_link(email_reply)
                    assert email_ticket != ticket
                    email_view = (await read_ticket(stack.http, email_ticket, email_token)).json()
                    assert email_view["channel"] == "email"
                    assert "Slack" in email_view["messages"][0]["content"]
                    for other_token in (token, None):  # the form's token opens only the form's
                        refused = await stack.http.get(f"/api/v1/tickets/{email_ticket}",
                                                       params={"token": other_token})
                        assert refused.status_code == 404

                    # 3. WhatsApp from the number given on the form.
                    message = inbound_form(twilio.account_sid, sender=phone, to=OUR_NUMBER,
                                           body="how do i export a project to csv?")
                    res = await stack.http.post(INBOUND, data=message, headers={
                        "X-Twilio-Signature": sign(twilio.auth_token, PUBLIC_URL + INBOUND,
                                                   message)})
                    assert res.status_code == 200, res.text

                    async def texted() -> list[str] | None:
                        return twilio.bodies_to(f"whatsapp:{phone}") or None

                    [whatsapp_reply] = await wait_for(texted, timeout_s=30)
                    assert "csv" in whatsapp_reply.lower()
                    assert "via email" in whatsapp_reply  # acknowledges the email
                    assert len(whatsapp_reply) <= 1600
                    whatsapp_ticket, whatsapp_token = status_link(whatsapp_reply)
                    assert whatsapp_ticket not in (ticket, email_ticket)
                    whatsapp_view = await read_ticket(stack.http, whatsapp_ticket,
                                                      whatsapp_token)
                    assert whatsapp_view.json()["channel"] == "whatsapp"

                    # Every channel has its provider here: there is no sandbox to list.
                    for params in ({}, {"channel": "email"}):
                        listing = await stack.http.get("/api/v1/sandbox/messages", params=params)
                        assert listing.status_code == 404

                    # One customer, one history across the three channels.
                    async with pool.acquire() as conn:
                        owners = await conn.fetch(
                            "SELECT DISTINCT customer_id FROM messages WHERE tenant_id = "
                            "'techcorp' AND direction = 'inbound' AND channel = ANY($1) "
                            "AND customer_id IN (SELECT customer_id FROM customer_identifiers "
                            "WHERE tenant_id = 'techcorp' AND identifier_value = ANY($2))",
                            ["web_form", "email", "whatsapp"], [address, phone])
                        [customer_id] = [row["customer_id"] for row in owners]
                        identifiers = await conn.fetch(
                            "SELECT identifier_type, identifier_value FROM customer_identifiers "
                            "WHERE tenant_id = 'techcorp' AND customer_id = $1", customer_id)
                        history = await conn.fetch(
                            "SELECT channel, direction FROM messages WHERE tenant_id = "
                            "'techcorp' AND customer_id = $1 ORDER BY created_at", customer_id)
                        switches = await conn.fetchval(
                            "SELECT channel_switches FROM conversations WHERE tenant_id = "
                            "'techcorp' AND customer_id = $1", customer_id)
                    assert {(r["identifier_type"], r["identifier_value"])
                            for r in identifiers} == {("email", address), ("phone", phone)}
                    assert [(r["channel"], r["direction"]) for r in history] == [
                        ("web_form", "inbound"), ("web_form", "outbound"),
                        ("email", "inbound"), ("email", "outbound"),
                        ("whatsapp", "inbound"), ("whatsapp", "outbound")]
                    assert [(s["from"], s["to"]) for s in switches] == [
                        ("web_form", "email"), ("email", "whatsapp")]
            finally:
                await pool.close()
