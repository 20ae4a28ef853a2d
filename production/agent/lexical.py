"""Okapi BM25 over the candidates of one search: how much a passage shares the question's
telling words, weighed by how rare each word is among the candidates.

The database's full-text rank (`ts_rank`) counts matches without weighing them by rarity, so
"password" in a question counts as much as "webhook"; BM25 weighs each word by its inverse
document frequency and saturates repeats, and a passage's title words count twice (the title
says what the passage is about). The candidates are the corpus: their statistics are computed
per search, so nothing is stored and nothing goes stale when the knowledge base changes. English
words, lightly stemmed; other languages share few words with the English docs
and are found by the embedding.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Final

K1: Final = 1.2
_SUFFIXES: Final = ("ing", "ed", "es", "s")
B: Final = 0.75
TITLE_REPEATS: Final = 2

_STOPWORD_TEXT: Final = """
a about after all also am an and any are as at be been before but by can could do does for from
get had has have hello help hi how i if in into is it its just like me more my need no not now
of on one only or our out please should so some than thank thanks that the their them then
there they this to up us very want was we what when where which who why will with would you
your
"""
_STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[:-len(suffix)]
    return word


def terms(text: str) -> list[str]:
    """Return the text's words as BM25 counts them: lower case, stop words out, a light stem
    ("deleted", "deleting", "deletes" → "delet")."""
    return [_stem(word) for word in re.findall(r"[a-z0-9]+", text.lower())
            if word not in _STOPWORDS and len(word) > 1]


def scores(query: str, passages: Sequence[tuple[str, str]]) -> list[float]:
    """Return the BM25 score of each (title, content) passage for the query, the passages
    themselves being the corpus."""
    if not passages:
        return []
    documents = [Counter(terms(title) * TITLE_REPEATS + terms(content))
                 for title, content in passages]
    lengths = [sum(document.values()) for document in documents]
    average = sum(lengths) / len(lengths) or 1.0
    count = len(documents)
    wanted = set(terms(query))
    frequency = {word: sum(1 for document in documents if word in document) for word in wanted}
    result = []
    for document, length in zip(documents, lengths, strict=True):
        total = 0.0
        for word in wanted:
            if tf := document.get(word, 0):
                idf = math.log(1 + (count - frequency[word] + 0.5) / (frequency[word] + 0.5))
                total += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
        result.append(total)
    return result
