"""Finding emails and phone numbers: what the logs mask and the output guardrail refuses."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from production.domain import pii
from production.logging import _redact_processor, redact

NOT_PII = [
    "conversation d51606d6-7a2e-4ade-9ad4-56d105c9574b done",
    "84b36dcc-1234-4dd3-a1b2-123456789012",
    "customer 0192f3a4-5b6c-7d8e-9f01-234567890abc, message 6fea552a-0434-4426-a7f8-1e5276bd2140",
    "ticket TKT-1234, TKT-16869929 and TKT-20240301-0042",
    "invoice INV-2024-00421",
    "at 2026-12-04T03:15:19.497752Z",
    "created 2024-03-01 12:30:45+00:00, due 03/01/2024",
    "listening on 127.0.0.1:8080, [::1]:54321 and localhost:16832",
    "connecting to postgresql://fte@127.0.0.1:5432/fte",
    "from 192.168.74.58 and 10.0.0.1",
    "price $1,299.00, 1683099.62 EUR, €49.99 and 6299007.04 EUR",
    "version v13.4.201, build 20240301",
    "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "latency 1234567 ms",
]

EMAILS = ["ada@example.com", "Ada.Lovelace+support@Example.co.uk", "bob_92@mail-server.example",
          "müller@beispiel.de"]

PHONES = [
    "+14155550123", "+1 (415) 555-0123", "+1-415-555-0199", "415-555-0123", "(415) 555-0123",
    "415.555.0123", "415 555 0123", "4155550123",
    "+44 20 7946 0958", "020 7946 0958", "07700 900123", "00442079460958",
    "+49 30 901820", "030 901820",
    "+33 1 42 68 53 00", "01 42 68 53 00",
    "+34 612 34 56 78", "612 34 56 78",
    "+55 11 91234-5678", "(11) 91234-5678",
    "+91 98765 43210", "+92 300 1234567", "0300 1234567", "+61 2 9374 4000",
]


@pytest.mark.parametrize("text", NOT_PII)
def test_ids_times_addresses_and_amounts_are_left_alone(text: str) -> None:
    assert redact(text) == text
    assert pii.phone_numbers(text) == []


@pytest.mark.parametrize("email", EMAILS)
def test_email_addresses_are_masked(email: str) -> None:
    assert redact(f"from {email}, thanks.") == "from [email], thanks."
    assert [found.text for found in pii.emails(f"write to {email}.")] == [email]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_masked_in_every_format(phone: str) -> None:
    assert redact(f"call {phone} today") == "call [phone] today"
    assert redact(f"Her number is {phone}.") == "Her number is [phone]."
    assert [found.text for found in pii.phone_numbers(f"call {phone} today")] == [phone]


def test_a_number_after_a_scheme_is_masked_but_the_scheme_stays() -> None:
    assert redact("whatsapp:+14155550123") == "whatsapp:[phone]"
    assert redact("tel:+442079460958") == "tel:[phone]"


def test_a_line_keeps_its_ids_and_loses_its_contacts() -> None:
    line = (f"customer {uuid.UUID(int=0x84b36dcc12344dd3a1b2123456789012)} wrote from "
            "ada@example.com and +1 (415) 555-0123 at 2026-12-04T03:15:19Z about TKT-1234")
    assert redact(line) == ("customer 84b36dcc-1234-4dd3-a1b2-123456789012 wrote from [email] "
                            "and [phone] at 2026-12-04T03:15:19Z about TKT-1234")


def test_the_log_processor_masks_nested_values_but_not_the_timestamp() -> None:
    event = {"event": "reply_sent to ada@example.com", "timestamp": "2026-12-04T03:15:19Z",
             "to": ["+14155550123", {"cc": "bob@example.org"}], "count": 4155550123,
             "conversation_id": "d51606d6-7a2e-4ade-9ad4-56d105c9574b"}
    assert _redact_processor(None, "info", event) == {
        "event": "reply_sent to [email]", "timestamp": "2026-12-04T03:15:19Z",
        "to": ["[phone]", {"cc": "[email]"}], "count": 4155550123,
        "conversation_id": "d51606d6-7a2e-4ade-9ad4-56d105c9574b"}


def test_overlapping_readings_of_one_number_are_masked_once() -> None:
    # Spain reads "91234-5678" as a number, Brazil the whole "(11) 91234-5678": the longer wins.
    assert [f.text for f in pii.phone_numbers("call (11) 91234-5678 now")] == ["(11) 91234-5678"]
    assert redact("call (11) 91234-5678 now") == "call [phone] now"


@given(st.uuids())
def test_no_uuid_is_ever_touched(value: uuid.UUID) -> None:
    assert redact(f"id={value} ") == f"id={value} "
