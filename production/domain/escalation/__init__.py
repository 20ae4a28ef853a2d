"""Escalation: which messages a person must handle, and why (the detector and its rule sets)."""

from production.domain.escalation.detector import (
    NEGATIVE_SENTIMENT_THRESHOLD,
    NO_KB_MATCH_SEARCHES,
    REASONS,
    Escalation,
    detect,
    triggers,
)

__all__ = ["NEGATIVE_SENTIMENT_THRESHOLD", "NO_KB_MATCH_SEARCHES", "REASONS", "Escalation",
           "detect", "triggers"]
