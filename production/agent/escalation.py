"""The escalation pre-screen of a run: the domain's detector, with the input guardrail's verdict
as its `prompt_injection` reason."""

from __future__ import annotations

from production.agent import guardrails
from production.domain import escalation
from production.domain.escalation import REASONS, Escalation

__all__ = ["REASONS", "Escalation", "detect"]


def detect(text: str, *, sentiment: float | None = None, searches_without_match: int = 0,
           frustrated_before: bool = False) -> Escalation:
    """Return whether the message needs a person, with every reason why and its sentiment."""
    return escalation.detect(text, sentiment=sentiment,
                             searches_without_match=searches_without_match,
                             injected=guardrails.check_input(text).tripped,
                             frustrated_before=frustrated_before)
