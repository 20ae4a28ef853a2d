"""Which messages a person must handle, and why: the rule sets run over the customer's words.

`detect` reads one inbound message and returns every escalation reason it triggers, in the
priority order of `REASONS`. The rules (`rules/`, one module per reason) look for what a message
asks for, not for single seed words: "what would 40 seats cost us" is a pricing question and
"where do I find my invoices" is not; "call me back" asks for a person and "call notifications"
does not. They are written for the English most customers use, typos included ("refnd", "mony
back", "lawer"), with the common Spanish, French, German, Portuguese and Roman Urdu/Hindi
wordings.

Before the rules run, short quoted spans are dropped (they name projects and templates, such as
"Vendor onboarding"), and near-misses of the key words are spelled right (`typos`). A request
the customer takes back ("I don't want a refund, just…") or an offer rather than a request
("call me if anything is unclear") does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from production.domain.escalation import frustration, security_signals
from production.domain.escalation.rule_set import RuleSet
from production.domain.escalation.rules import RULE_SETS, security_incident
from production.domain.escalation.typos import correct
from production.domain.patterns import Rules
from production.domain.sentiment import score as sentiment_score
from production.domain.text import fold, word_starts

# Most important first, as context/escalation-rules.md ("Precedence") orders them.
REASONS: Final = ("unknown_high_risk", "prompt_injection", "legal_or_compliance", "refund",
                  "pricing_or_contract", "human_request", "objection", "negative_sentiment",
                  "no_kb_match")
NEGATIVE_SENTIMENT_THRESHOLD: Final = frustration.LINE
NO_KB_MATCH_SEARCHES: Final = 2


@dataclass(frozen=True)
class Escalation:
    escalate: bool
    reasons: tuple[str, ...]  # in REASONS order of priority, no duplicates
    sentiment: float
    # What kind of message it is, beyond the verdict (not part of it, so not compared):
    # mildly annoyed, answered with an acknowledgement (`frustration`);
    mild_frustration: bool = field(default=False, compare=False)
    # an account-security incident (a kind of unknown_high_risk): the holding reply gives the
    # safe next step and the ticket is urgent.
    security_incident: bool = field(default=False, compare=False)


_COMPILED: Final = tuple((rule_set, Rules(*rule_set.patterns, flags=0))
                         for rule_set in RULE_SETS)
_SECURITY: Final = next(rules for rule_set, rules in _COMPILED
                        if rule_set is security_incident.RULES)

# Short quoted spans are names and titles ("the "Vendor onboarding" project"), not requests.
_QUOTED: Final = re.compile(r'"[^"\n]{1,60}"|(?<![a-z])\'[^\'\n]{1,40}\'(?![a-z])')
# An offer, not a request: "feel free to ring me if that's easier, but email is fine".
_OFFER: Final = re.compile(
    r"\b(?:feel free to|you (?:can|could|may) (?:also )?|you're welcome to|happy to|"
    r"(?:don't|do not) hesitate to|no need to)\s*$|\bif (?:that's|that is|it's|it is) easier\b|"
    r"\bif (?:needed|necessary|anything is unclear|you (?:have|need) (?:any )?(?:more )?"
    r"(?:questions|info|information|details))\b|\bemail is (?:absolutely |perfectly |also )?fine\b"
)
# A request taken back in the same breath: "I don't want a refund, just …".
_DECLINED: Final = re.compile(
    r"\b(?:don't|do not|not|never|no longer|without)\s+(?:\w+\s+)?(?:want|wanting|need|needing|"
    r"asking for|looking for|requesting|after|expecting|interested in|seeking)\s+"
    r"(?:(?!(?:i|we|you|but|just|need|want|please|so)\b)[\w'-]+,?\s+){0,4}$|"
    r"\bno need (?:for|of|to) (?:a |an |any )?$"
)


def prepare(text: str) -> str:
    """Return the text as the rules read it: folded, short quotes dropped, typos corrected."""
    return correct(_QUOTED.sub(" ", fold(text)))


def triggers(text: str) -> dict[str, str]:
    """Return, per content reason the message triggers, the words that triggered it."""
    prepared = prepare(text)
    return _triggers(prepared, word_starts(prepared))


def _triggers(prepared: str, starts: frozenset[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for rule_set, rules in _COMPILED:
        if rule_set.reason in found or (rule_set.unless is not None and rule_set.unless in found):
            continue
        if (words := first_meant(rule_set, rules, prepared, starts)) is not None:
            found[rule_set.reason] = words
    return found


def first_meant(rule_set: RuleSet, rules: Rules, prepared: str,
                starts: frozenset[str]) -> str | None:
    """Return the first match the customer means: not declined, and not an offer."""
    for match in rules.finditer(prepared, starts):
        if rule_set.declinable and _DECLINED.search(prepared, 0, match.start()):
            continue
        if not rule_set.offers_count and _is_offer(prepared, match):
            continue
        return match.group(0).strip()
    return None


def _is_offer(prepared: str, match: re.Match[str]) -> bool:
    start = max(prepared.rfind(p, 0, match.start()) for p in ".!?\n") + 1
    ends = [i for p in ".!?\n" if (i := prepared.find(p, match.end())) != -1]
    sentence_end = min(ends, default=len(prepared))
    return bool(_OFFER.search(prepared, start, match.start())
                or _OFFER.search(prepared[start:sentence_end]))


def detect(text: str, *, sentiment: float | None = None, searches_without_match: int = 0,
           injected: bool = False, frustrated_before: bool = False) -> Escalation:
    """Return whether the message needs a person, with every reason why and its sentiment.

    `sentiment` defaults to `sentiment.score(text)`; `searches_without_match` is how many
    knowledge-base searches for this message found nothing (two make `no_kb_match`);
    `injected` is the input guardrail's verdict (it makes `prompt_injection`);
    `frustrated_before`: the customer was frustrated recently, so the sentiment line is higher
    and mild frustration is no longer answered alone (`frustration`).
    """
    value = sentiment_score(text) if sentiment is None else sentiment
    prepared = prepare(text)
    starts = word_starts(prepared)
    found = set(_triggers(prepared, starts))
    line = frustration.AGAIN_THRESHOLD if frustrated_before else NEGATIVE_SENTIMENT_THRESHOLD
    mild = frustration.is_mild(text, value)
    if value < line and (frustrated_before or not mild):
        found.add("negative_sentiment")
    if searches_without_match >= NO_KB_MATCH_SEARCHES:
        found.add("no_kb_match")
    if injected:
        found.add("prompt_injection")
    # An incident in the customer's own words: what they found, and that nobody of theirs did it.
    told = security_signals.found(prepared)
    if told:
        found.add("unknown_high_risk")
    reasons = tuple(reason for reason in REASONS if reason in found)
    security = told or ("unknown_high_risk" in found and
                        first_meant(security_incident.RULES, _SECURITY, prepared, starts)
                        is not None)
    return Escalation(escalate=bool(reasons), reasons=reasons, sentiment=value,
                      mild_frustration=mild and "negative_sentiment" not in found,
                      security_incident=security)
