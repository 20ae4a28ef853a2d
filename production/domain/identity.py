"""Normalized customer identifiers: the keys that make one person one customer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import phonenumbers

IdentifierType = Literal["email", "phone", "whatsapp"]


@dataclass(frozen=True, order=True)
class Identifier:
    type: IdentifierType
    value: str


def normalize_email(raw: str) -> str | None:
    """Return the email lowercased and trimmed, or None when it is not an address."""
    value = raw.strip().lower()
    if value.startswith("mailto:"):
        value = value[len("mailto:"):]
    local, sep, domain = value.partition("@")
    if not sep or not local or "." not in domain:
        return None
    return value


def normalize_phone(raw: str, default_region: str = "US") -> str | None:
    """Return the phone number in E.164, or None when it is not a valid number."""
    value = raw.strip()
    if value.lower().startswith("whatsapp:"):
        value = value[len("whatsapp:"):]
    try:
        parsed = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def identifiers_for(email: str | None, phone: str | None) -> list[Identifier]:
    """Return the normalized identifiers a message carries, in a stable order."""
    found: list[Identifier] = []
    if email and (normalized := normalize_email(email)):
        found.append(Identifier("email", normalized))
    if phone and (e164 := normalize_phone(phone)):
        found.append(Identifier("phone", e164))
    return sorted(found)
