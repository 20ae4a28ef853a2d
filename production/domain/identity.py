"""Normalized customer identifiers, and the rule that says when two customers are one person.

An identifier is an email address (lowercased, as `email-validator` normalizes it) or a phone
number in E.164. Gmail dots and +tags are NOT folded: two different strings are two different
addresses, and two different addresses are never one person without a human saying so.

`decide` is the merge rule; intake applies it in SQL (`fte_ingest_inbound`, migration 006) for
speed, and `services.identity.preview` applies this function to the same facts, so a test can
hold the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeAlias
from uuid import UUID

import phonenumbers
from email_validator import EmailNotValidError, validate_email

IdentifierType = Literal["email", "phone", "whatsapp"]

# Region used for numbers written in national format when the tenant set none.
DEFAULT_REGION = "US"

_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_PHONE_PREFIXES = ("whatsapp:", "tel:", "sms:")
_PLUS_SIGNS = ("+", "\uff0b")


@dataclass(frozen=True, order=True)
class Identifier:
    type: IdentifierType
    value: str


class InvalidIdentifier(ValueError):
    """An email address or phone number that identifies no one; the message says why.

    The message never repeats the value (it ends up in logs and HTTP answers).
    """


def parse_email(raw: str) -> str:
    """Return the normalized email address, or raise InvalidIdentifier saying why it is not one.

    Accepts surrounding whitespace, any case, a "mailto:" prefix (and its ?query), the
    display-name form `Ada Lovelace <ada@example.com>` and trailing dots.
    """
    value = raw.strip().strip(_INVISIBLE).strip()
    if "<" in value:  # "Ada Lovelace <ada@example.com>": the address is in the brackets
        value = value[value.rindex("<") + 1:].partition(">")[0]
    if value[:7].lower() == "mailto:":
        value = value[7:].partition("?")[0]
    value = value.strip().rstrip(".")
    if not value:
        raise InvalidIdentifier("the email address is empty")
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidIdentifier(f"not a valid email address: {exc}") from exc
    return checked.normalized.lower()


def _clean_phone(raw: str) -> str:
    value = raw.strip().strip(_INVISIBLE).strip()
    lowered = value.lower()
    for prefix in _PHONE_PREFIXES:
        if lowered.startswith(prefix):
            return value[len(prefix):].strip()
    return value


def needs_region(raw: str) -> bool:
    """Return True when the number is written in national format (its region decides it)."""
    value = _clean_phone(raw).lstrip("( ")
    return not (value.startswith(_PLUS_SIGNS) or value.startswith("00"))


_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
    phonenumbers.NumberParseException.TOO_LONG: "too long",
}
_IMPOSSIBLE = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.ValidationResult.TOO_SHORT: "too short for its country",
    phonenumbers.ValidationResult.TOO_LONG: "too long for its country",
    phonenumbers.ValidationResult.INVALID_LENGTH: "wrong length for its country",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number: add the area code",
}


def _parse_number(value: str, region: str) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        reason = _PARSE_ERRORS.get(exc.error_type, "not a phone number")
        raise InvalidIdentifier(f"not a valid phone number: {reason}") from exc


def parse_phone(raw: str, default_region: str = DEFAULT_REGION) -> str:
    """Return the number in E.164, or raise InvalidIdentifier saying why it is not one.

    Accepts spaces, dashes, dots, parentheses, "whatsapp:"/"tel:" prefixes, the "00"
    international prefix, national format (read in `default_region`) and extensions (dropped).
    """
    value = _clean_phone(raw)
    if not value:
        raise InvalidIdentifier("the phone number is empty")
    number = _parse_number(value, default_region)
    if not phonenumbers.is_valid_number(number):
        digits = value.lstrip("( ")
        # "00" is the international prefix in most of the world but not in every default
        # region (the US dials 011): read it as "+" before giving up.
        if digits.startswith("00"):
            number = _parse_number("+" + digits[2:], default_region)
        if not phonenumbers.is_valid_number(number):
            reason = _IMPOSSIBLE.get(phonenumbers.is_possible_number_with_reason(number),
                                     "no such number in its country's numbering plan")
            raise InvalidIdentifier(f"not a valid phone number: {reason}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str | None:
    """Return the email normalized (see parse_email), or None when it is not an address."""
    try:
        return parse_email(raw)
    except InvalidIdentifier:
        return None


def normalize_phone(raw: str, default_region: str = DEFAULT_REGION) -> str | None:
    """Return the phone number in E.164, or None when it is not a valid number."""
    try:
        return parse_phone(raw, default_region)
    except InvalidIdentifier:
        return None


@dataclass(frozen=True)
class SenderIdentity:
    """What a message's sender fields normalize to, and why any of them was refused."""

    email: str | None
    phone: str | None
    identifiers: list[Identifier]
    rejected: list[str] = field(default_factory=list)


def sender_identity(email_raw: str | None, phone_raw: str | None,
                    default_region: str = DEFAULT_REGION) -> SenderIdentity:
    """Return the sender's normalized identifiers (sorted) and the reasons for refused ones."""
    rejected: list[str] = []
    found: list[Identifier] = []
    email_value = phone_value = None
    if email_raw is not None and email_raw.strip():
        try:
            email_value = parse_email(email_raw)
            found.append(Identifier("email", email_value))
        except InvalidIdentifier as exc:
            rejected.append(f"email: {exc}")
    if phone_raw is not None and phone_raw.strip():
        try:
            phone_value = parse_phone(phone_raw, default_region)
            found.append(Identifier("phone", phone_value))
        except InvalidIdentifier as exc:
            rejected.append(f"phone: {exc}")
    return SenderIdentity(email_value, phone_value, sorted(found), rejected)


def identifiers_for(email: str | None, phone: str | None,
                    default_region: str = DEFAULT_REGION) -> list[Identifier]:
    """Return the normalized identifiers a message carries, in a stable order."""
    return sender_identity(email, phone, default_region).identifiers


# --- The merge rule -------------------------------------------------------------------------

# The identifier a channel's messages are addressed from: the customer owning it gets the
# message when the rule refuses to merge.
PRIMARY_TYPES: dict[str, tuple[IdentifierType, ...]] = {
    "email": ("email",), "web_form": ("email",), "whatsapp": ("phone", "whatsapp"),
}


@dataclass(frozen=True)
class Owner:
    """A customer that already owns one of the message's identifiers."""

    customer_id: UUID
    created_at: datetime
    owns_email: bool


@dataclass(frozen=True)
class Claim:
    identifier: Identifier
    owner: Owner | None  # None: nobody owns it yet


@dataclass(frozen=True)
class Create:
    """Nobody owns any identifier: a new customer with all of them."""

    identifiers: tuple[Identifier, ...]


@dataclass(frozen=True)
class Link:
    """One customer owns some identifiers: it gets the message and the unowned ones."""

    customer_id: UUID
    new: tuple[Identifier, ...]


@dataclass(frozen=True)
class Merge:
    """Several customers own the message's identifiers and at most one of them (counting the
    message's own unowned email) has an email: proven one person, merged into the oldest."""

    survivor_id: UUID
    merged_ids: tuple[UUID, ...]
    new: tuple[Identifier, ...]


@dataclass(frozen=True)
class Candidate:
    """Merging would join two different email addresses: a human decides.

    The message goes to `attach_to`, the owner of the channel's identifier (None: the new
    customer made of `new_customer`, the message's unowned emails). `link` are the unowned
    non-email identifiers added to it. A candidate pair is recorded between it and each of
    `others` (None in `others`: the new customer).
    """

    attach_to: UUID | None
    others: tuple[UUID | None, ...]
    new_customer: tuple[Identifier, ...]
    link: tuple[Identifier, ...]


Decision: TypeAlias = Create | Link | Merge | Candidate


def decide(channel: str, claims: Sequence[Claim]) -> Decision:
    """Return what one message proves about who its sender is (see the Decision classes)."""
    unowned = tuple(sorted(c.identifier for c in claims if c.owner is None))
    owners = sorted({c.owner for c in claims if c.owner is not None},
                    key=lambda o: (o.created_at, str(o.customer_id)))
    if not owners:
        return Create(unowned)
    new_emails = tuple(i for i in unowned if i.type == "email")
    email_parties = sum(o.owns_email for o in owners) + (1 if new_emails else 0)
    if email_parties <= 1:
        if len(owners) == 1:
            return Link(owners[0].customer_id, unowned)
        return Merge(owners[0].customer_id, tuple(o.customer_id for o in owners[1:]), unowned)
    primary = PRIMARY_TYPES.get(channel, ("email",))
    addressed = next((c for c in sorted(claims, key=lambda c: c.identifier)
                      if c.identifier.type in primary), None)
    target: UUID | None
    if addressed is not None and addressed.owner is not None:
        target = addressed.owner.customer_id
    elif new_emails:
        target = None  # the new customer, made of the message's unowned email
    else:
        target = owners[0].customer_id
    parties: list[UUID | None] = [o.customer_id for o in owners]
    if new_emails:
        parties.append(None)
    return Candidate(
        attach_to=target,
        others=tuple(p for p in parties if p != target),
        new_customer=new_emails,
        link=tuple(i for i in unowned if i.type != "email"),
    )
