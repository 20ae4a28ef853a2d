"""Okapi BM25 over the candidates of one search: how much a passage shares the question's
telling words, weighed by how rare each word is among the candidates.

The database's full-text rank (`ts_rank`) counts matches without weighing them by rarity, so
"password" in a question counts as much as "webhook"; BM25 weighs each word by its inverse
document frequency and saturates repeats, and a passage's title words count twice (the title
says what the passage is about). The candidates are the corpus: their statistics are computed
per search, so nothing is stored and nothing goes stale when the knowledge base changes. Words are
folded and lightly stemmed; a question in another language shares only its technical words
with the English docs (its function words are dropped) and is found mostly by the embedding.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Final

from production.domain.text import fold

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
# A question in another language shares technical words with the English docs ("SSO", "Okta",
# "webhook", "CSV"), and false friends that are its function words ("comment" in "Comment
# activer …", "die", "son"): those are dropped for a question in that language.
_FOREIGN_STOPWORDS: Final = {language: frozenset(words.split()) for language, words in {
    "fr": "le la les un une des du de et ou en au aux sur sous pour par avec sans dans ce cet "
          "cette ces mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs je tu il "
          "elle nous vous ils elles on qui que quoi quand comment pourquoi est sont ai as avons "
          "avez ont pas ne plus tout tous toute toutes aussi mais donc car si comme faire fait "
          "peut peux puis me se",
    "de": "der die das den dem des ein eine einen einem einer und oder in im an am auf aus bei "
          "mit nach von zu zum zur fur uber unter ich du er sie es wir ihr mein meine dein "
          "unser unsere ist sind bin hat haben wie was wo warum wann nicht kein keine auch aber "
          "noch nur kann konnen mochte bitte man",
    "es": "el la los las un una unos unas y o en de del al a con sin por para sobre mi mis tu "
          "tus su sus nuestro nuestra yo ella nosotros que como cuando donde es son esta estan "
          "hay no si tambien pero puedo puede quiero me se lo le",
    "pt": "o a os as um uma uns umas e ou em no na nos nas de do da dos das ao com sem por "
          "para sobre meu minha meus seu sua nosso nossa eu voce ele ela que como quando onde "
          "sao esta estao tem nao sim tambem mas posso pode quero me se lo",
}.items()}


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[:-len(suffix)]
    return word


def terms(text: str, language: str = "en") -> list[str]:
    """Return the text's words as BM25 counts them: folded, stop words (of English, and of the
    question's language) out, a light stem ("deleted", "deleting", "deletes" → "delet")."""
    stop = _STOPWORDS | _FOREIGN_STOPWORDS.get(language, frozenset())
    return [_stem(word) for word in re.findall(r"[a-z0-9]+", fold(text))
            if word not in stop and len(word) > 1]


def scores(query: str, passages: Sequence[tuple[str, str]], *,
           language: str = "en") -> list[float]:
    """Return the BM25 score of each (title, content) passage for the query (written in
    `language`), the passages themselves being the corpus."""
    if not passages:
        return []
    documents = [Counter(terms(title) * TITLE_REPEATS + terms(content))
                 for title, content in passages]
    lengths = [sum(document.values()) for document in documents]
    average = sum(lengths) / len(lengths) or 1.0
    count = len(documents)
    wanted = set(terms(query, language))
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
