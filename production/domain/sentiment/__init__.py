"""Customer sentiment from a message's words: a lexicon, phrases and a few rules, no model."""

from production.domain.sentiment.scoring import score, trend

__all__ = ["score", "trend"]
