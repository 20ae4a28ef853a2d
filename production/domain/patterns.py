"""Many regexes over one text, each tried only when the text has a word it can start with.

`re` tries a pattern that starts with \b at every word edge, so a hundred of them over a
kilobyte cost milliseconds. Nearly every rule pattern starts with a plain word, though, and a
pattern cannot match when no word of the text starts with it: `Rules` reads those first words
off each pattern and skips the patterns whose words are absent, with one set lookup each.

Why the patterns are read here rather than by a library (measured on the 96 sample tickets, µs
per check, prefilter / every pattern tried / the `regex` module / one alternation of all):
injection 140 / 410 / 310 / 370, escalation triggers 350 / 1050 / 990 / 510. Hyperscan's
prefilter mode compiles each pattern, but a database of the injection rules did not finish
compiling after six minutes (3.7 GB), and RE2 has no lookarounds. A pattern the reader cannot
vouch for gets no first words and is always tried, so skipping never hides a match
(`tests/unit/test_patterns.py` checks that against every example message).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Final

from production.domain.text import LONGEST_START, word_starts

_LITERAL: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789'")

class Rules:
    """Alternative patterns, each tried only when the text has a word it can start with."""

    def __init__(self, *patterns: str, flags: int = re.MULTILINE) -> None:
        self._rules = tuple((_first_words(p), re.compile(p, flags)) for p in patterns)

    @property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """Return the compiled patterns, in the order they are tried."""
        return tuple(pattern for _, pattern in self._rules)

    def finditer(self, text: str, starts: frozenset[str] | None = None,
                 ) -> Iterator[re.Match[str]]:
        """Yield the matches of every pattern in turn (`starts`: `word_starts(text)`)."""
        starts = word_starts(text) if starts is None else starts
        for first, pattern in self._rules:
            if first is None or not first.isdisjoint(starts):
                yield from pattern.finditer(text)

    def search(self, text: str, starts: frozenset[str] | None = None) -> re.Match[str] | None:
        """Return the first match of the first pattern that matches."""
        return next(self.finditer(text, starts), None)


def _first_words(pattern: str) -> frozenset[str] | None:
    """Return word beginnings one of which every match of `pattern` contains, or None.

    Each top-level branch must start with \\b; of the elements it requires that begin a word,
    the one with the rarest literal words is taken ("instructions" rather than "show").
    """
    found: set[str] = set()
    for branch in _branches(pattern):
        parts = _parts(branch)
        if not parts or parts[0].text != r"\b":
            return None
        candidates = [words for k, part in enumerate(parts)
                      if part.required and _at_word_start(parts, k)
                      and (words := _words_at(parts, k)) is not None]
        if not candidates:
            return None
        found |= max(candidates, key=_rarity)
    return frozenset(word[:LONGEST_START] for word in found)


@dataclass(frozen=True)
class _Part:
    text: str  # one element of a regex sequence, without its quantifier
    required: bool  # the quantifier asks for at least one


def _parts(sequence: str) -> list[_Part]:
    """Split a regex sequence (no top-level |) into elements; lookarounds are left out."""
    parts: list[_Part] = []
    i = 0
    while i < len(sequence):
        if sequence[i] == "\\":
            end = i + 2
        elif sequence[i] == "[":
            end = i + 1 + next(k for k, depth in _scan(sequence[i:]) if sequence[i + k] == "]"
                               and k > 1)
        elif sequence[i] == "(":
            close = _closing(sequence[i:])
            if close is None:
                return []
            end = i + close + 1
        else:
            end = i + 1
        text, required, i = sequence[i:end], True, end
        if i < len(sequence) and sequence[i] in "?*+{":
            if sequence[i] == "{":
                close = sequence.index("}", i)
                required = sequence[i + 1:close].split(",")[0] not in ("", "0")
                i = close + 1
            else:
                required = sequence[i] == "+"
                i += 1
            if i < len(sequence) and sequence[i] in "?+":
                i += 1  # lazy or possessive
        if not text.startswith(("(?=", "(?!", "(?<")):
            parts.append(_Part(text, required))
    return parts


def _at_word_start(parts: list[_Part], k: int) -> bool:
    """Return whether element k always begins a word (what comes before ends in a space)."""
    if k == 0:
        return True
    before = parts[k - 1]
    return _ends_in_space(before) and (before.required or _at_word_start(parts, k - 1))


def _ends_in_space(part: _Part) -> bool:
    if part.text in (r"\s", " ", r"\b"):
        return True
    if not part.text.startswith("("):
        return False
    for branch in _branches(part.text[3 if part.text.startswith("(?:") else 1:-1]):
        parts = _parts(branch)
        if not parts or not parts[-1].required or not _ends_in_space(parts[-1]):
            return False
    return True


def _words_at(parts: list[_Part], k: int) -> set[str] | None:
    """Return the literal words element k (and what follows) can begin with, or None."""
    if parts[k].text.startswith("("):
        found: set[str] = set()
        for branch in _branches(parts[k].text[3 if parts[k].text.startswith("(?:") else 1:-1]):
            inner = _parts(branch)
            if not inner or (words := _words_at(inner, 0)) is None:
                return None
            found |= words
        return found
    run = ""
    for part in parts[k:]:
        if not part.required or part.text not in _LITERAL:
            break
        run += part.text
    run = run.lstrip("'")  # "'ll": the piece after the apostrophe is a word of its own
    return {run} if run else None


# Short everyday words: an element made of these says little about a text.
_COMMON: Final = frozenset({
    "a", "an", "the", "i", "you", "me", "my", "we", "our", "your", "us", "to", "of", "in", "on",
    "at", "for", "is", "are", "be", "do", "no", "so", "go", "how", "what", "why", "can", "will",
    "give", "get", "show", "tell", "send", "want", "need", "have", "has", "it", "this", "that",
    "with", "from", "as", "and", "or", "not", "all", "any", "some", "just", "now", "new", "one",
    "up", "out", "about", "if", "by", "his", "her", "they", "them", "their",
})


def _rarity(words: Collection[str]) -> tuple[bool, int]:
    return (not any(word in _COMMON or len(word) < 3 for word in words),
            min(len(word) for word in words))


def _scan(pattern: str) -> Iterator[tuple[int, int]]:
    """Yield (index, nesting depth) of each character outside escapes and character classes."""
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            i += 2 if pattern[i + 1:i + 2] in ("]", "^") else 1
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        yield i, depth
        i += 1


def _branches(pattern: str) -> list[str]:
    cuts = [i for i, depth in _scan(pattern) if depth == 0 and pattern[i] == "|"]
    return [pattern[a + 1:b] for a, b in zip([-1, *cuts], [*cuts, len(pattern)], strict=True)]


def _closing(pattern: str) -> int | None:
    return next((i for i, depth in _scan(pattern) if depth == 0 and pattern[i] == ")"), None)


