"""Where mild frustration ends and a reason to hand the customer to a person begins.

A customer slightly annoyed that a reset email or a sync keeps failing is still asking an
answerable question: a message scoring from `MILD_FLOOR` up to `MILD_CEILING` without any mark
of anger (`ANGER`: repeated contact, "unacceptable", shouting, profanity, harm done to their
business) is mild frustration. It is answered, with one sentence acknowledging the annoyance,
also when it falls under the escalation line (0.3). What stays an escalation
(`negative_sentiment`) is anger and despair: under the line with a mark of anger, or under
`MILD_FLOOR` however worded. Churn talk is the objection rules' and threats are the high-risk
rules'; both escalate on their own.

The line moves for a customer frustrated recently (an earlier message under `MILD_CEILING`
in the last `RECENT`): their next message goes to a person under `AGAIN_THRESHOLD` instead of
0.3, and mild frustration no longer exempts it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from production.domain.patterns import Rules
from production.domain.text import fold

# The escalation line of a message's sentiment (the detector's NEGATIVE_SENTIMENT_THRESHOLD).
LINE: Final = 0.3
# Below this, however it is worded, the customer is upset rather than annoyed.
MILD_FLOOR: Final = 0.15
# From here up a message reads as neutral (a plain request scores 0.5).
MILD_CEILING: Final = 0.45
# The escalation line for a customer frustrated in the last `RECENT` (instead of 0.3).
AGAIN_THRESHOLD: Final = 0.4
# How long an earlier frustrated message lowers the bar for a person.
RECENT: Final = timedelta(days=7)

ANGER: Final = Rules(
    # repeated contact, nobody answering
    r"\b(?:second|third|fourth|fifth|2nd|3rd|4th|5th|\d+(?:st|nd|rd|th))\s+(?:time|email|"
    r"message|ticket|request|call)\b|\b(?:two|three|four|five|several|many|multiple|\d+) "
    r"times\b",
    r"\b(?:again and again|yet again|over and over|still no (?:reply|answer|response|fix)|"
    r"(?:nobody|no one|noone|no-one) (?:answers|replies|responds|has (?:answered|replied|"
    r"responded|looked|helped)|is (?:answering|replying|helping)|cares|gets back|got back)|"
    r"(?:personne|nadie|niemand|ninguem) (?:ne )?(?:repond|responde|antwortet|contesta))\b",
    # strong words
    r"\b(?:unacceptable|ridiculous|useless|garbage|rubbish|crap|crappy|pathetic|joke|worst|"
    r"furious|angry|livid|fuming|disgusting|disgraceful|terrible|horrible|awful|outrageous|"
    r"incompetent|incompetence|shameful|scandalous|fed up|sick of|sick and tired|had enough|"
    r"i'm done|i am done|enough is enough|wtf|damn|hell|shit|fuck\w*|bullshit|"
    r"inadmissible|inacceptable|scandaleux|lamentable|n'importe quoi|ras le bol|"
    r"inaceptable|vergonzoso|harto|harta|inakzeptabel|unverschamt|frechheit|katastrophe|"
    r"inaceitavel|absurdo|vergonha|palhacada|ridicule)\b",
    # harm done to them, which a person should own
    r"\b(?:cost|costing) (?:us|me) (?:a |an |the |our |my )?(?:client|customer|deal|money|"
    r"contract|job|day|days|week)\b|\b(?:lost|losing) (?:a |an |the |our |my )?(?:client|"
    r"customer|deal|whole|entire|full)\b",
    flags=0,
)
# Words that say the customer is annoyed (above the line, only these make it frustration).
_ANNOYED: Final = re.compile(
    r"\b(?:annoy\w*|frustrat\w*|irritat\w*|ugh+|argh+|grr+|bit of a pain|a pain|nervig|"
    r"genervt|argerlich|molest[oa]|fastidios[oa]|frustrante|irritante|agacant\w*|enervant\w*|"
    r"penible|chat[oa]|chateado|chateada|irritad[oa])\b")
_SHOUTED: Final = re.compile(r"\b[A-Z]{4,}\b")
_EXCLAIMS: Final = re.compile(r"[!?]{2,}")
# Upper-case words that are names, not shouting.
_NOT_SHOUTING: Final = frozenset({"TECHCORP", "HTTP", "HTTPS", "JSON", "HTML", "SAML", "SCIM",
                                  "OKTA", "GDPR", "ASAP", "EDIT", "NOTE"})

# Messages that show the line: the mild ones are answered (with an acknowledgement), the angry
# ones escalate (tests/unit/test_frustration.py runs each through the detector).
MILD: Final = (
    "Bit annoying: the reset email never arrives. Where should I look for it?",
    "Slightly frustrating, my time entries from last month can't be edited any more. Why?",
    "A little irritated that the importer refuses our CSV. What is the size limit?",
    "Kind of annoying that notifications don't show up in Firefox. What am I missing?",
    "ugh, the app logged me out again. is there a setting for how long sessions last?",
)
ANGRY: Final = (
    "This is the third email about our broken sync and nobody has replied.",
    "Honestly this is unacceptable. The export has failed all week.",
    "Your app lost a whole morning of my work. USELESS.",
    "I'm fed up with the login failing every single day.",
    "Your outage cost us a client yesterday and nobody even warned us. Terrible.",
)


def is_angry(text: str) -> bool:
    """Return whether the message shows anger, despair or repeated contact (not annoyance)."""
    folded = fold(text)
    if ANGER.search(folded) is not None or _EXCLAIMS.search(text):
        return True
    shouted = [w for w in _SHOUTED.findall(text) if w not in _NOT_SHOUTING]
    return bool(shouted)


def is_mild(text: str, sentiment: float) -> bool:
    """Return whether the message is mildly frustrated: annoyed (under the line, or saying so
    under `MILD_CEILING`), not angry."""
    if not MILD_FLOOR <= sentiment < MILD_CEILING or is_angry(text):
        return False
    return sentiment < LINE or _ANNOYED.search(fold(text)) is not None


def is_frustrated(text: str, sentiment: float) -> bool:
    """Return whether the message shows any frustration: under the line, or mildly."""
    return sentiment < LINE or is_mild(text, sentiment)


def frustrated_recently(history: Sequence[dict[str, Any]], now: datetime, *,
                        score: Callable[[str], float]) -> bool:
    """Return whether an earlier inbound message of the customer, sent within `RECENT` of
    `now`, was frustrated (`is_frustrated`, its sentiment by `score`)."""
    for message in history:
        if message.get("current") or message.get("direction") != "inbound":
            continue
        at = datetime.fromisoformat(str(message["at"]))
        content = str(message.get("content") or "")
        if now - at <= RECENT and is_frustrated(content, score(content)):
            return True
    return False
