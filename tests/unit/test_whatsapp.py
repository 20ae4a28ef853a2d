"""The pure WhatsApp rules: Twilio's webhook form, messages without text, turns, statuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from production.domain import whatsapp
from production.domain.whatsapp import InvalidTwilioRequest
from tests.fakes.twilio_api import inbound_form, status_form

ACCOUNT = "AC" + "0" * 32
UK = "+447911123456"


def test_a_text_message_becomes_an_inbound_message() -> None:
    form = inbound_form(ACCOUNT, sender=UK, body="  my export is stuck  ", sid="SM123")
    at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    msg = whatsapp.parse_inbound(form, tenant_id="techcorp", received_at=at)
    assert (msg.tenant_id, msg.channel, msg.external_id) == ("techcorp", "whatsapp", "SM123")
    assert (msg.content, msg.sender_phone, msg.sender_name) == (
        "my export is stuck", UK, "Ada Lovelace")
    assert msg.sender_email is None and msg.received_at == at
    assert msg.metadata == {"twilio_message_sid": "SM123", "wa_id": "447911123456",
                            "to": "+14155238886", "num_media": 0, "media_content_types": []}
    assert whatsapp.is_from_twilio(msg.metadata) and whatsapp.has_text(msg.metadata)


def test_the_sender_is_normalized_to_e164() -> None:
    form = inbound_form(ACCOUNT, sender=UK, body="hi")
    form["From"] = "WhatsApp:+44 7911 123456"
    assert whatsapp.parse_inbound(form, tenant_id="techcorp").sender_phone == UK


@pytest.mark.parametrize(("change", "reason"), [
    ({"MessageSid": ""}, "MessageSid is required"),
    ({"MessageSid": None}, "MessageSid is required"),
    ({"From": None}, "From is required"),
    ({"From": "+447911123456"}, "WhatsApp address"),
    ({"From": "whatsapp:+1234"}, "not a valid phone number"),
    ({"From": "whatsapp:hello"}, "not a valid phone number"),
    ({"NumMedia": "two"}, "NumMedia"),
    ({"NumMedia": "11"}, "NumMedia"),
    ({"Body": "x" * 20_001}, "Body"),
])
def test_a_malformed_form_is_refused_with_a_reason(change: dict[str, str | None],
                                                   reason: str) -> None:
    form = inbound_form(ACCOUNT, sender=UK, body="hi")
    for key, value in change.items():
        if value is None:
            form.pop(key)
        else:
            form[key] = value
    with pytest.raises(InvalidTwilioRequest, match=reason):
        whatsapp.parse_inbound(form, tenant_id="techcorp")


def test_attachments_without_text_are_described_and_flagged_media_only() -> None:
    form = inbound_form(ACCOUNT, sender=UK, body="", media=("image/jpeg", "application/pdf"))
    msg = whatsapp.parse_inbound(form, tenant_id="techcorp")
    assert msg.content == "[2 attachments: image/jpeg, application/pdf]"
    assert msg.metadata["media_only"] is True
    assert msg.metadata["num_media"] == 2
    assert msg.metadata["media_content_types"] == ["image/jpeg", "application/pdf"]
    assert "MediaUrl0" not in str(msg.metadata) and "https://" not in str(msg.metadata)
    assert not whatsapp.has_text(msg.metadata)


def test_attachments_with_text_are_answered_from_the_text() -> None:
    form = inbound_form(ACCOUNT, sender=UK, body="here is the error", media=("image/png",))
    msg = whatsapp.parse_inbound(form, tenant_id="techcorp")
    assert msg.content == "here is the error"
    assert "media_only" not in msg.metadata
    assert msg.metadata["media_content_types"] == ["image/png"]


def test_a_message_with_neither_text_nor_media_is_described() -> None:
    form = inbound_form(ACCOUNT, sender=UK, body="")
    assert whatsapp.parse_inbound(form, tenant_id="techcorp").content == (
        "[a message without text]")
    form.update({"Latitude": "51.5", "Longitude": "-0.12"})
    msg = whatsapp.parse_inbound(form, tenant_id="techcorp")
    assert msg.content == "[a shared location]" and msg.metadata["media_only"] is True


def test_a_single_attachment_and_a_missing_content_type() -> None:
    form = inbound_form(ACCOUNT, sender=UK, media=("image/jpeg",))
    del form["MediaContentType0"]
    msg = whatsapp.parse_inbound(form, tenant_id="techcorp")
    assert msg.content == "[1 attachment: application/octet-stream]"


def test_profile_name_and_wa_id_are_optional() -> None:
    form = inbound_form(ACCOUNT, sender=UK, body="hi", profile_name=None)
    del form["WaId"]
    msg = whatsapp.parse_inbound(form, tenant_id="techcorp")
    assert msg.sender_name is None
    assert "wa_id" not in msg.metadata
    form["ProfileName"] = "   "
    assert whatsapp.parse_inbound(form, tenant_id="techcorp").sender_name is None


def test_a_turn_is_the_text_of_its_messages_in_order_without_attachment_notes() -> None:
    text = {"twilio_message_sid": "SM1"}
    media = {"twilio_message_sid": "SM2", "media_only": True}
    assert whatsapp.turn_text([("hi", text), ("[1 attachment: image/jpeg]", media),
                               ("my export is stuck", text), ("it's a csv", text)]) == (
        "hi\nmy export is stuck\nit's a csv")
    assert whatsapp.turn_text([("[1 attachment: image/jpeg]", media)]) is None
    long = whatsapp.turn_text([("a" * 15_000, text), ("b" * 15_000, text)])
    assert long is not None and len(long) == whatsapp.MAX_TURN_TEXT and long.endswith("b")


def test_a_status_callback_is_parsed() -> None:
    update = whatsapp.parse_status(status_form(ACCOUNT, sid="SM9", status="Undelivered",
                                               error_code="63016"))
    assert update == whatsapp.StatusUpdate(sid="SM9", status="undelivered", error_code="63016")
    assert whatsapp.parse_status(status_form(ACCOUNT, sid="SM9", status="read")).error_code \
        is None
    for missing in ("MessageSid", "MessageStatus"):
        form = status_form(ACCOUNT, sid="SM9", status="read")
        del form[missing]
        with pytest.raises(InvalidTwilioRequest, match=missing):
            whatsapp.parse_status(form)


@pytest.mark.parametrize(("current", "new", "advances"), [
    (None, "queued", True),
    ("sandboxed", "sent", True),
    ("queued", "sent", True),
    ("sent", "delivered", True),
    ("delivered", "read", True),
    ("read", "sent", False),
    ("read", "delivered", False),
    ("delivered", "delivered", False),
    ("delivered", "sent", False),
    ("sent", "failed", True),
    ("read", "undelivered", True),
    ("failed", "read", False),
    ("failed", "undelivered", False),
    ("delivered", "receiving", False),
])
def test_delivery_statuses_only_move_forward(current: str | None, new: str,
                                             advances: bool) -> None:
    assert whatsapp.status_advances(current, new) is advances


def test_phone_numbers_are_masked_in_provider_errors() -> None:
    assert whatsapp.redact_numbers("Invalid 'To' Phone Number: whatsapp:+447911123456") == (
        "Invalid 'To' Phone Number: whatsapp:[number]")
    assert whatsapp.redact_numbers("error 21211") == "error 21211"
