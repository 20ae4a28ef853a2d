"""Pure domain rules: identity normalization, channel formatting, event envelopes."""

from __future__ import annotations

import json
import uuid

import pytest

from production.domain.formatting import (
    ChannelStyle,
    fit,
    format_reply,
    link_room,
    measure,
    split_message,
    with_status_link,
)
from production.domain.identity import (
    Identifier,
    identifiers_for,
    normalize_email,
    normalize_phone,
)
from production.domain.messages import InboundMessage, InvalidMessage, decode_event, encode_event
from production.logging import redact

EMAIL = ChannelStyle("email", "formal", 500, "words", greeting="Dear {name},",
                     signature="Best regards,\\nTechCorp\\nTicket reference: {ticket}")
WHATSAPP = ChannelStyle("whatsapp", "conversational", 300, "chars", split_at=1600,
                        greeting="Hi {name}!")
WEB = ChannelStyle("web_form", "semi-formal", 300, "words", greeting="Hello {name},",
                   signature="TechCorp Support (ticket {ticket})")


@pytest.mark.parametrize(("raw", "expected"), [
    ("  Ada@Example.COM ", "ada@example.com"),
    ("mailto:bob@example.org", "bob@example.org"),
    ("no-at-sign", None),
    ("x@nodot", None),
    ("@example.com", None),
])
def test_emails_are_lowercased_trimmed_or_refused(raw: str, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("+1 (415) 555-0123", "+14155550123"),
    ("whatsapp:+14155550123", "+14155550123"),
    ("415.555.0123", "+14155550123"),
    ("+44 20 7946 0958", "+442079460958"),
    ("12", None),
    ("call me maybe", None),
])
def test_phones_become_e164_or_are_refused(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


def test_identifiers_for_keeps_only_valid_ones_in_stable_order() -> None:
    assert identifiers_for("A@B.co", "+14155550123") == [
        Identifier("email", "a@b.co"), Identifier("phone", "+14155550123")]
    assert identifiers_for(None, "nope") == []


def test_fit_cuts_at_a_sentence_boundary_within_the_limit() -> None:
    text = "One two three. Four five six. Seven eight nine."
    assert fit(text, 7, "words") == "One two three. Four five six."
    assert fit(text, 100, "words") == text
    assert fit("a" * 50, 10, "chars") == "a" * 10
    assert fit("short words but many of them", 12, "chars") == "short words"
    assert fit("averyveryverylongsingleword and more", 3, "words") == (
        "averyveryverylongsingleword and more")


def test_split_message_keeps_sentences_whole_and_parts_within_size() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(200))
    parts = split_message(text, 1600)
    assert len(parts) > 1
    assert all(len(p) <= 1600 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == text
    assert split_message("x" * 3500, 1600) == ["x" * 1600, "x" * 1600, "x" * 300]


def test_email_reply_is_formal_with_signature_and_ticket_reference() -> None:
    out = format_reply("Here is how.", EMAIL, name="Ada Lovelace", ticket="TKT-1001")
    assert out.startswith("Dear Ada,")
    assert out.endswith("Best regards,\nTechCorp\nTicket reference: TKT-1001")


def test_every_channel_stays_within_its_hard_limit() -> None:
    body = " ".join(f"This is sentence {i} of a long answer." for i in range(400))
    assert len(format_reply(body, EMAIL, name="A", ticket="TKT-1").split()) <= 500
    assert len(format_reply(body, WEB, name="A", ticket="TKT-1").split()) <= 300
    assert len(format_reply(body, WHATSAPP, name=None, ticket=None)) <= 300
    assert format_reply("Hi.", WHATSAPP, name=None, ticket=None).startswith("Hi there!")


def test_a_reply_leaves_room_for_the_status_link_it_gets_on_its_way_out() -> None:
    body = " ".join(f"This is sentence {i} of a long answer." for i in range(400))
    url = "https://support.example/support/tickets/TKT-1#token=" + "x" * 47
    for style in (EMAIL, WHATSAPP):
        room = link_room(style, url)
        stored = format_reply(body, style, name="Ada", ticket="TKT-1", reserve=room)
        sent = with_status_link(stored, style.channel, url)
        assert measure(sent, style.length_unit) <= style.max_length
        assert measure(sent, style.length_unit) > style.max_length - 40  # within a sentence
    assert link_room(WEB, url) == 0
    assert link_room(WHATSAPP, url) == len(f"\n\nYour ticket, online: {url}")


def test_events_round_trip_and_bad_ones_are_invalid_messages() -> None:
    msg = InboundMessage(tenant_id="techcorp", channel="web_form", external_id="k1",
                         content="hello there", sender_email="a@b.co",
                         message_id=uuid.uuid4())
    raw = json.dumps(encode_event("inbound_message", msg)).encode()
    assert decode_event(raw, "inbound_message", InboundMessage) == msg
    bad = [None, b"\xff\xfe", b"[1, 2]", b'{"type": "other", "version": 1, "data": {}}',
           b'{"type": "inbound_message", "version": 9, "data": {}}',
           b'{"type": "inbound_message", "version": 1, "data": {"channel": "fax"}}']
    for value in bad:
        with pytest.raises(InvalidMessage):
            decode_event(value, "inbound_message", InboundMessage)


def test_redaction_masks_emails_and_phones_but_not_ids() -> None:
    line = "from ada@example.com, +1 (415) 555-0123, ticket TKT-1234, order 42"
    assert redact(line) == "from [email], [phone], ticket TKT-1234, order 42"
