"""Texts whose length is checked as sent, then stripped of spaces at either end.

A model with `str_strip_whitespace` checks `max_length` after stripping, so it accepts a text
longer than its own schema's `maxLength` (padded with spaces) — what a client validating
against the schema would refuse. A field written as
`Annotated[str, StringConstraints(min_length=2, max_length=200), AfterValidator(at_least(2))]`
checks the length the schema states on the text as sent, then strips it, then checks the
stripped text still has `min_length` characters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BeforeValidator


def at_least(min_length: int) -> Callable[[str], str]:
    """A validator: the text stripped, and at least `min_length` characters without the
    spaces at either end."""
    def check(value: str) -> str:
        value = value.strip()
        if len(value) < min_length:
            raise ValueError(f"must have at least {min_length} characters, not counting spaces "
                             "at either end")
        return value
    return check


def strip_text(value: Any) -> Any:
    """Before validation: a text without the spaces at either end (anything else untouched)."""
    return value.strip() if isinstance(value, str) else value


Stripped = BeforeValidator(strip_text)
