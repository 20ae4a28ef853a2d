"""Identity rules without I/O: identifier normalization (with reasons for refusals) and the
link / merge / candidate decision."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from production.domain.identity import (
    Candidate,
    Claim,
    Create,
    Identifier,
    InvalidIdentifier,
    Link,
    Merge,
    Owner,
    decide,
    identifiers_for,
    needs_region,
    normalize_email,
    normalize_phone,
    parse_email,
    parse_phone,
    sender_identity,
)
from production.domain.messages import InboundMessage, InvalidMessage
from production.services.intake import sender_of


@pytest.mark.parametrize(("raw", "expected"), [
    ("ada@example.com", "ada@example.com"),
    ("  Ada@Example.COM \t", "ada@example.com"),
    ("\u200bada@example.com\ufeff", "ada@example.com"),
    ("mailto:ada@example.com", "ada@example.com"),
    ("MAILTO:Ada@Example.com?subject=Help", "ada@example.com"),
    ("Ada Lovelace <Ada@Example.com>", "ada@example.com"),
    ('"Lovelace, Ada" <ada@example.com>', "ada@example.com"),
    ("<ada@example.com>", "ada@example.com"),
    ("<mailto:ada@example.com>", "ada@example.com"),
    ("ada@example.com.", "ada@example.com"),
    ("ada@example.com..", "ada@example.com"),
    ("ada@sub.example.co.uk", "ada@sub.example.co.uk"),
    ("ada@xn--mnchen-3ya.de", "ada@münchen.de"),
    ("ada@MÜNCHEN.de", "ada@münchen.de"),
    # Different strings are different addresses: no Gmail dot or +tag folding.
    ("Ada.Lovelace+support@Gmail.com", "ada.lovelace+support@gmail.com"),
    ("adalovelace@gmail.com", "adalovelace@gmail.com"),
])
def test_email_variations_normalize_to_one_identifier(raw: str, expected: str) -> None:
    assert parse_email(raw) == expected
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "the email address is empty"),
    ("   ", "the email address is empty"),
    ("mailto:", "the email address is empty"),
    ("no-at-sign", "not a valid email address: "),
    ("ada@", "not a valid email address: There must be something after the @-sign"),
    ("@example.com", "not a valid email address: "),
    ("ada@nodot", "It should have a period"),
    ("ada lovelace@example.com", "invalid characters before the @-sign"),
    ("ada@@example.com", "invalid characters"),
    ("ada..lovelace@example.com", "two periods in a row"),
    ("ada@example.com, bob@example.org", "invalid characters"),
    ("Ada Lovelace <>", "the email address is empty"),
    ("ada@localhost", "It should have a period"),
])
def test_invalid_emails_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        parse_email(raw)
    assert reason in str(refused.value)
    assert normalize_email(raw) is None


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("+14155550123", "US", "+14155550123"),
    ("+1 (415) 555-0123", "US", "+14155550123"),
    ("+1 415 555 0123", "US", "+14155550123"),
    ("415.555.0123", "US", "+14155550123"),
    ("415-555-0123", "US", "+14155550123"),
    ("(415) 555-0123", "US", "+14155550123"),
    ("  (415) 555 0123  ", "US", "+14155550123"),
    ("+1 415 555 0123 ext. 42", "US", "+14155550123"),
    ("(415) 555-0123 x7", "US", "+14155550123"),
    ("+1 415 555 0123#9", "US", "+14155550123"),
    ("whatsapp:+14155550123", "US", "+14155550123"),
    ("WhatsApp:+44 20 7946 0958", "US", "+442079460958"),
    ("tel:+1-415-555-0123", "US", "+14155550123"),
    ("0044 20 7946 0958", "US", "+442079460958"),  # "00" where the US dials 011
    ("00 49 30 123456", "US", "+4930123456"),
    ("011 44 20 7946 0958", "US", "+442079460958"),
    ("+44 (0)20 7946 0958", "US", "+442079460958"),
    ("(+44) 20-7946-0958", "US", "+442079460958"),
    ("020 7946 0958", "GB", "+442079460958"),  # national format in the tenant's region
    ("0044 20 7946 0958", "GB", "+442079460958"),
    ("030 123456", "DE", "+4930123456"),
    ("+91 98765 43210", "DE", "+919876543210"),  # international ignores the region
])
def test_phone_variations_become_e164(raw: str, region: str, expected: str) -> None:
    assert parse_phone(raw, region) == expected
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(("raw", "region", "reason"), [
    ("", "US", "the phone number is empty"),
    ("whatsapp:", "US", "the phone number is empty"),
    ("call me maybe", "US", "not a phone number"),
    ("12", "US", "too short"),
    ("+999 1234", "US", "unknown country code"),
    ("+1 415 555 01234567", "US", "too long"),
    ("+1 555 555 5555", "US", "no such number"),
    ("555-0123", "US", "a local number: add the area code"),
    ("020 7946 0958", "US", "not a valid phone number"),  # a UK number read as American
])
def test_invalid_phones_are_refused_with_a_reason(raw: str, region: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        parse_phone(raw, region)
    assert reason in str(refused.value)
    assert normalize_phone(raw, region) is None


@pytest.mark.parametrize(("raw", "national"), [
    ("415 555 0123", True), ("(415) 555-0123", True), ("020 7946 0958", True),
    ("+14155550123", False), ("whatsapp:+14155550123", False), ("0044 20 7946 0958", False),
    ("(+44) 20 7946 0958", False), ("tel:+1-415-555-0123", False),
])
def test_needs_region_only_for_national_format(raw: str, national: bool) -> None:
    assert needs_region(raw) is national


def test_sender_identity_keeps_valid_identifiers_and_says_why_others_were_refused() -> None:
    sender = sender_identity(" Ada <ADA@example.com> ", "12345", "US")
    assert sender.identifiers == [Identifier("email", "ada@example.com")]
    assert sender.email == "ada@example.com" and sender.phone is None
    assert sender.rejected == ["phone: not a valid phone number: too short for its country"]
    assert "12345" not in " ".join(sender.rejected)  # reasons never repeat the value
    both = sender_identity("ada@example.com", "whatsapp:+14155550123")
    assert both.identifiers == [Identifier("email", "ada@example.com"),
                                Identifier("phone", "+14155550123")]
    assert both.rejected == []
    assert identifiers_for("A@B.co", "020 7946 0958", "GB") == [
        Identifier("email", "a@b.co"), Identifier("phone", "+442079460958")]


def test_a_message_without_any_valid_identifier_is_invalid_and_says_why() -> None:
    msg = InboundMessage(tenant_id="techcorp", channel="whatsapp", external_id="SM1",
                         content="hi", sender_phone="whatsapp:12", sender_email="nope")
    with pytest.raises(InvalidMessage) as refused:
        sender_of(msg)
    assert str(refused.value) == (
        "an inbound message needs a valid email address or phone number; email: not a valid "
        "email address: An email address must have an @-sign.; phone: not a valid phone "
        "number: too short for its country")


def test_sender_of_reads_a_national_number_in_the_given_region() -> None:
    msg = InboundMessage(tenant_id="techcorp", channel="web_form", external_id="f1",
                         content="hi", sender_email="ada@example.com",
                         sender_phone="020 7946 0958")
    assert sender_of(msg, "GB").phone == "+442079460958"
    assert sender_of(msg).phone is None  # not a US number: dropped, the email still counts


# --- decide ---------------------------------------------------------------------------------

T0 = datetime(2025, 1, 1, tzinfo=UTC)
EMAIL_A = Identifier("email", "ada@example.com")
EMAIL_B = Identifier("email", "bob@example.com")
PHONE = Identifier("phone", "+14155550123")


def owner(age_days: int, owns_email: bool) -> Owner:
    return Owner(uuid.uuid4(), T0 - timedelta(days=age_days), owns_email)


def test_nobody_owns_anything_creates_one_customer_with_all_identifiers() -> None:
    assert decide("web_form", [Claim(EMAIL_A, None), Claim(PHONE, None)]) == Create(
        (EMAIL_A, PHONE))


def test_one_owner_gets_the_message_and_the_new_identifiers() -> None:
    a = owner(3, owns_email=True)
    assert decide("web_form", [Claim(EMAIL_A, a), Claim(PHONE, None)]) == Link(
        a.customer_id, (PHONE,))
    assert decide("email", [Claim(EMAIL_A, a)]) == Link(a.customer_id, ())
    phone_only = owner(3, owns_email=False)
    assert decide("web_form", [Claim(EMAIL_A, None), Claim(PHONE, phone_only)]) == Link(
        phone_only.customer_id, (EMAIL_A,))


def test_two_owners_and_one_email_are_merged_into_the_oldest() -> None:
    older, newer = owner(9, owns_email=False), owner(2, owns_email=True)
    assert decide("web_form", [Claim(EMAIL_A, newer), Claim(PHONE, older)]) == Merge(
        older.customer_id, (newer.customer_id,), ())


def test_two_different_emails_are_a_candidate_and_the_channel_decides_the_message() -> None:
    a, b = owner(9, owns_email=True), owner(2, owns_email=True)  # b owns the phone
    claims = [Claim(EMAIL_A, a), Claim(PHONE, b)]
    assert decide("web_form", claims) == Candidate(a.customer_id, (b.customer_id,), (), ())
    assert decide("email", claims) == Candidate(a.customer_id, (b.customer_id,), (), ())
    assert decide("whatsapp", claims) == Candidate(b.customer_id, (a.customer_id,), (), ())


def test_a_new_email_next_to_a_phone_owned_by_someone_with_another_email_is_a_new_customer(
) -> None:
    household = owner(5, owns_email=True)  # e.g. a family's shared phone
    claims = [Claim(EMAIL_B, None), Claim(PHONE, household)]
    assert decide("web_form", claims) == Candidate(None, (household.customer_id,), (EMAIL_B,), ())
    # On WhatsApp the phone is the channel's identifier: its owner gets the message.
    assert decide("whatsapp", claims) == Candidate(household.customer_id, (None,), (EMAIL_B,), ())


def test_unowned_phones_follow_the_message_when_emails_conflict() -> None:
    a, b = owner(9, owns_email=True), owner(2, owns_email=True)
    other_phone = Identifier("phone", "+442079460958")
    claims = [Claim(EMAIL_A, a), Claim(EMAIL_B, b), Claim(other_phone, None)]
    assert decide("email", claims) == Candidate(a.customer_id, (b.customer_id,), (),
                                                (other_phone,))
    # The channel's identifier (the phone) is new: it goes with the message to the oldest.
    assert decide("whatsapp", claims) == Candidate(a.customer_id, (b.customer_id,), (),
                                                   (other_phone,))


OWNERS = st.lists(st.tuples(st.integers(0, 50), st.booleans()), min_size=1, max_size=4)


@given(owners=OWNERS, with_new_email=st.booleans(), with_new_phone=st.booleans(),
       channel=st.sampled_from(["email", "whatsapp", "web_form"]))
def test_decide_never_joins_two_email_owners(owners: list[tuple[int, bool]],
                                             with_new_email: bool, with_new_phone: bool,
                                             channel: str) -> None:
    parties = [owner(age, has_email) for age, has_email in owners]
    claims = [Claim(Identifier("email" if p.owns_email else "phone", f"id{i}"), p)
              for i, p in enumerate(parties)]
    if with_new_email:
        claims.append(Claim(Identifier("email", "new@example.com"), None))
    if with_new_phone:
        claims.append(Claim(Identifier("phone", "+new"), None))
    decision = decide(channel, claims)
    email_parties = sum(p.owns_email for p in parties) + with_new_email
    oldest = min(parties, key=lambda p: (p.created_at, str(p.customer_id)))
    if email_parties <= 1:
        assert isinstance(decision, Link | Merge)
        kept = decision.customer_id if isinstance(decision, Link) else decision.survivor_id
        assert kept == oldest.customer_id
        if isinstance(decision, Merge):
            assert set(decision.merged_ids) == {p.customer_id for p in parties} - {kept}
    else:
        assert isinstance(decision, Candidate)
        everyone = {p.customer_id for p in parties} | ({None} if with_new_email else set())
        assert {decision.attach_to, *decision.others} == everyone
        assert decision.attach_to not in decision.others
        assert all(i.type == "email" for i in decision.new_customer)
        assert all(i.type != "email" for i in decision.link)
