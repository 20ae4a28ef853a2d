"""One normal form of a customer's text for matching, and the word beginnings a text holds.

`fold` is what every rule reads (the escalation rules, the sentiment lexicon, the guardrails):
lower case, no accents, no zero-width characters, straight quotes, single spaces.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_MARKS: Final = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff\ufe20-\ufe2f"
                           "\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
# (str.translate with a dict looks up every character; five replaces are faster)
_PLAIN_QUOTES: Final = (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'),
                        ("\u00a0", " "))
_SPACES: Final = re.compile(r"[ \t]+")

_TOKEN: Final = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
LONGEST_START: Final = 6


def fold(text: str) -> str:
    """Return the text lower-cased, without accents, zero-width characters or curly quotes."""
    if not text.isascii():
        text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
        for fancy, plain in _PLAIN_QUOTES:
            if fancy in text:
                text = text.replace(fancy, plain)
    if "  " in text or "\t" in text:
        text = _SPACES.sub(" ", text)
    return text.lower()


def word_starts(folded: str) -> frozenset[str]:
    """Return every beginning (1 to 6 characters) of every word of the folded text."""
    words = set(_TOKEN.findall(folded))
    words.update([part for word in words if "'" in word for part in word.split("'")])
    return frozenset(w[:i] for w in words for i in range(1, min(len(w), LONGEST_START) + 1))


_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> bool:
    """Return whether the text holds what no database text column can: a NUL character, or a
    surrogate code point (valid UTF-8 never has one)."""
    return _UNSTORABLE.search(text) is not None
