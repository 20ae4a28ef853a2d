"""Where a text names someone's email address or phone number: one finder for logs and replies.

Phone numbers are what `phonenumbers.PhoneNumberMatcher` reads as valid numbers: written with a
"+" (or "00") they are found for every country; written nationally they are read in each of
`REGIONS`, the default region first, then the countries whose languages the rules read. A
number is found only as a token of its own, so the digits inside an id, a timestamp, an address
and port, an IP address or an amount ("84b36dcc-1234-4dd3-…", "2024-03-01T10:00",
"127.0.0.1:5432", "192.168.74.58", "1683099.62") are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from phonenumbers import Leniency, PhoneNumberMatcher

from production.domain.identity import DEFAULT_REGION

EMAIL: Final = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
REGIONS: Final = (DEFAULT_REGION, "GB", "DE", "FR", "ES", "BR", "IN", "PK")

# Seven digits with at most a few separators between them: anything shorter is no number, and
# the matcher (pure Python, one pass per region) only runs on texts that have such a run.
_DIGIT_RUN: Final = re.compile(r"(?:\d[\s().+-]{0,3}){6}\d")
# An amount with decimals and an IPv4 address, which some region's plan reads as a number.
_LOOKALIKE: Final = re.compile(r"\d+[.,]\d{1,2}|\d{1,3}(?:\.\d{1,3}){3}")
_JOINERS: Final = "-.:/@_"


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    text: str


def emails(text: str) -> list[Found]:
    """Return the email addresses in the text, in order."""
    if "@" not in text:
        return []
    return [Found(m.start(), m.end(), m.group(0)) for m in EMAIL.finditer(text)]


def phone_numbers(text: str) -> list[Found]:
    """Return the phone numbers in the text, in order, none overlapping another."""
    if not _DIGIT_RUN.search(text):
        return []
    found: set[tuple[int, int]] = set()
    for region in REGIONS:
        for match in PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
            if _stands_alone(text, match.start, match.end) \
                    and not _LOOKALIKE.fullmatch(match.raw_string):
                found.add((match.start, match.end))
    # Two regions can read overlapping numbers out of one run: the run is one number.
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return [Found(start, end, text[start:end]) for start, end in merged]


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Return whether text[start:end] is a token of its own, not a piece of a longer one."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    # "whatsapp:+1415…", "tel:+1…": a "+" number may follow a scheme.
    joined_before = (before in _JOINERS and start >= 2 and text[start - 2].isalnum()
                     and not (before == ":" and text[start] == "+"))
    joined_after = after in _JOINERS and end + 1 < len(text) and text[end + 1].isalnum()
    return not (before.isalnum() or after.isalnum() or joined_before or joined_after)


def redact(text: str) -> str:
    """Return the text with email addresses and phone numbers masked."""
    text = EMAIL.sub("[email]", text) if "@" in text else text
    for found in reversed(phone_numbers(text)):
        text = text[:found.start] + "[phone]" + text[found.end:]
    return text
