"""One escalation reason's rules: the patterns, and the messages that show where its line is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleSet:
    """Patterns over the prepared text (folded, quotes dropped, typos spelled right)."""

    reason: str
    patterns: tuple[str, ...]
    examples: tuple[str, ...]  # messages that must trigger the reason
    near_misses: tuple[str, ...] = ()  # messages close to the line that must not
    # "I don't want a refund, just fix it": a request taken back in the same breath.
    declinable: bool = False
    # "Call me if anything is unclear": an offer, not a request.
    offers_count: bool = True
    # A reason that, when found, is the one meant (a disputed charge the customer wants back
    # is a refund).
    unless: str | None = None
