"""Near-misses of the words the escalation rules rely on, spelled right ("refnd", "lawer")."""

from __future__ import annotations

import re
from typing import Final

TARGETS: Final = (
    "refund", "refunds", "refunded", "reimburse", "reimbursement", "chargeback", "lawyer",
    "lawyers", "attorney", "lawsuit", "solicitor", "subpoena", "discount", "discounts",
    "pricing", "overcharged", "supervisor", "representative", "competitor", "journalist",
    "money", "human", "contract", "subscription", "expensive", "cancel", "cancellation",
    "hacked", "quotation", "procurement", "invoice", "compensation", "manager", "person",
    "gdpr",
)
# Real words an edit away from a target, which must stay as they are.
REAL_WORDS: Final = frozenset({
    "layer", "layers", "player", "lower", "honey", "monkey", "humane", "humans",
    "contact", "contacts", "contacted", "contrast", "expansive", "cancer", "cancels",
    "canceled", "cancelled", "backed", "hacker", "hackers", "packed", "racked", "jacked",
    "lacked", "sacked", "hacks", "invoices", "invoiced", "managed", "manages", "manage",
    "managers", "persons", "personal", "persona", "prison", "poison", "parson", "refind",
    "quotations", "pricking", "prising", "competitors", "journalists",
    "supervisors", "representatives", "subscriptions", "solicitors", "attorneys", "lawsuits",
    "refunding", "reimbursed", "reimburses", "discounted", "chargebacks", "monday", "mondays",
    "moneys", "humor",
})


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _typo_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for target in TARGETS:
        for variant in _deletions(target) | {target}:
            index.setdefault(variant, target)
    return index


_TYPOS: Final = _typo_index()
# The two first letters a typo of a target can have: people rarely mistype those, and looking
# only at words that begin like a target keeps the correction cheap.
_OPENINGS: Final = frozenset(
    opening for t in TARGETS for opening in (t[:2], t[0] + t[2], t[1] + t[0]))
_TOKEN: Final = re.compile(r"[a-z]{4,}")


def correct(folded: str) -> str:
    """Return the folded text with near-misses of the rules' key words spelled right."""
    fixes: dict[str, str] = {}
    for word in set(_TOKEN.findall(folded)):
        if word[:2] in _OPENINGS and word not in REAL_WORDS and word not in TARGETS:
            target = _TYPOS.get(word) or next(
                (t for variant in _deletions(word)
                 if (t := _TYPOS.get(variant)) is not None and abs(len(t) - len(word)) <= 1),
                None)
            if target is not None:
                fixes[word] = target
    if not fixes:
        return folded
    typo = re.compile(r"\b(?:" + "|".join(fixes) + r")\b")
    return typo.sub(lambda match: fixes[match.group(0)], folded)
