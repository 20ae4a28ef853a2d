"""A guardrail's verdict, the same shape for the input and the output checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class GuardrailResult:
    tripped: bool
    code: str | None
    detail: str | None


PASSED: Final = GuardrailResult(tripped=False, code=None, detail=None)


def tripped(code: str, detail: str) -> GuardrailResult:
    """Return a tripped result with the words that tripped it (at most 200 characters)."""
    return GuardrailResult(tripped=True, code=code, detail=detail.strip()[:200])
