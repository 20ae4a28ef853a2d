"""Customer sentiment from a message's words: a lexicon plus a few rules, no model.

`score` gives 0.0 (furious, desperate) to 1.0 (delighted); 0.5 is a plain request. It is built so
that a calm question about a fault ("my sync is broken, how do I fix it?") stays near neutral
while anger, profanity, shouting and "third time asking" fall below 0.3, the escalation line.

How a message is scored: every word found in the lexicon adds its valence (-4 … +4); a negation
in the three words before it flips and softens it; an intensifier ("very", "so", "muy", "bahut")
or ALL CAPS strengthens it. Words that only name a fault ("error", "broken", "stuck") count for
little and together never more than `_PROBLEM_FLOOR`, because describing a problem is what
support messages are for. Phrases (repeated contact, threats to leave, profanity even when
masked, sarcasm) add their own valence; exclamation marks and shouting push further in the
direction the message already leans. The sum is squashed into [0, 1] the way VADER does it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Final

from production.domain.sentiment.lexicon import (
    ACRONYMS,
    EMOJI,
    FAULT_IF_NEGATED,
    INTENSIFIERS,
    LEXICON,
    NEGATORS,
    PROBLEM_WORDS,
    SHORT_SHOUTS,
)
from production.domain.sentiment.phrases import BY_ANCHOR, MARKED, PHRASES, Phrase
from production.domain.text import fold

_PROBLEM_VALENCE: Final = -0.5
_PROBLEM_FLOOR: Final = -1.0
_NEGATION_FACTOR: Final = -0.74
_WORD: Final = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
_CAPS_RUN: Final = re.compile(r"[A-Z]{2,}")
_EXCLAIM_RUN: Final = re.compile(r"[!?]{2,}")
_EMOTICONS: Final = tuple((e, v) for e, v in EMOJI.items() if e.isascii())
_SCORED: Final = frozenset(LEXICON) | PROBLEM_WORDS | FAULT_IF_NEGATED
_ALPHA: Final = 15.0  # VADER's normalization constant: larger keeps scores nearer 0.5
_SHOUT_VALENCE: Final = -0.5
_SHOUT_FLOOR: Final = -1.2
_EXCLAIM_STEP: Final = 0.3
_TREND_DELTA: Final = 0.1


def _word_valences(words: Sequence[str], caps: frozenset[str]) -> tuple[float, float]:
    """Return (emotion valence, fault valence) of the words, with negation and intensifiers."""
    emotion = 0.0
    fault = 0.0
    for i in [i for i, word in enumerate(words) if word in _SCORED]:
        word = words[i]
        window = words[max(0, i - 3):i]
        negated = any(w in NEGATORS or w.endswith("n't") for w in window)
        if word in FAULT_IF_NEGATED:
            fault += _PROBLEM_VALENCE if negated else 0.0
            continue
        following = words[i + 1] if i + 1 < len(words) else ""
        if _is_modifier(word, following):
            continue
        is_fault = word in PROBLEM_WORDS
        valence = _PROBLEM_VALENCE if is_fault else LEXICON[word]
        for prior in window[-2:]:
            valence *= INTENSIFIERS.get(prior, 1.0)
        if word in caps:
            valence *= 1.5
        if negated:
            valence = 0.0 if is_fault else valence * _NEGATION_FACTOR
        if is_fault:
            fault += valence
        else:
            emotion += valence
    return emotion, fault


def _is_modifier(word: str, following: str) -> bool:
    """Return whether a lexicon word is only modifying the next one ("super angry", "kind of")."""
    if word == "kind":
        return following == "of"
    return word in INTENSIFIERS and (following in LEXICON or following in PROBLEM_WORDS)


def _shouted(text: str) -> set[str]:
    """Return the distinct words written in capitals that are not acronyms."""
    shouted = set()
    for match in _CAPS_RUN.finditer(text):
        word, start, end = match.group(0), match.start(), match.end()
        if (start and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha()):
            continue
        if word not in ACRONYMS and (len(word) >= 4 or word in SHORT_SHOUTS):
            shouted.add(word)
    return shouted


def _phrases_in(folded: str, words: Sequence[str]) -> list[Phrase]:
    """Return the phrases whose anchors the message contains, in a fixed order."""
    chosen = {i for word in BY_ANCHOR.keys() & set(words) for i in BY_ANCHOR[word]}
    chosen.update(i for i in MARKED if any(mark in folded for mark in PHRASES[i].anchors))
    return [PHRASES[i] for i in sorted(chosen)]


def score(text: str) -> float:
    """Return the message's sentiment in [0, 1]: below 0.3 clearly negative, above 0.7 positive."""
    folded = fold(text)
    words = _WORD.findall(folded)
    emoji = [(e, v) for e, v in (_EMOTICONS if folded.isascii() else EMOJI.items())
             if e in folded]
    if not words and not emoji:
        return 0.5
    shouted = _shouted(text)
    emotion, fault = _word_valences(words, frozenset(w.lower() for w in shouted))
    emotion += sum(phrase.valence * phrase.hits(folded) for phrase in _phrases_in(folded, words))
    emotion += sum(v * min(folded.count(e), 2) for e, v in emoji)

    total = emotion + max(fault, _PROBLEM_FLOOR)
    if len(shouted) >= 2 and total <= 0.5:
        total += max(_SHOUT_VALENCE * len(shouted), _SHOUT_FLOOR)
    total += _punctuation(text, total)
    return round(0.5 + 0.5 * total / math.sqrt(total * total + _ALPHA), 4)


def _punctuation(text: str, total: float) -> float:
    """Return how much '!' and '???' push the sum further in the direction it leans."""
    marks = min(text.count("!"), 4)
    runs = len(_EXCLAIM_RUN.findall(text)) if marks > 1 or "??" in text else 0
    if total > 0.3:
        return _EXCLAIM_STEP * marks
    if total < -0.3:
        return -_EXCLAIM_STEP * marks - 0.4 * min(runs, 2)
    # A neutral message that ends "!!!" or "???" is impatient, not calm.
    return -0.6 * min(runs, 2)


def trend(previous: list[float], current: float) -> str:
    """Return "improving", "stable" or "worsening": `current` against the recent average.

    The baseline is the mean of the last three earlier scores, so one odd message does not
    flip the trend; a move of more than 0.1 counts.
    """
    if not previous:
        return "stable"
    recent = previous[-3:]
    delta = current - sum(recent) / len(recent)
    if delta > _TREND_DELTA:
        return "improving"
    if delta < -_TREND_DELTA:
        return "worsening"
    return "stable"
