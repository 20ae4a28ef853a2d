"""What a customer asks the product to have: the things a knowledge-base answer must mention.

A similarity score cannot tell "is there a mind map view?" (not in the docs, but close to the
views passage) from a terse question the docs do answer: both land at cosine 0.3-0.4. What does
tell them apart is the subject. When a customer asks whether the product has, supports or works
with something, that something must appear in the documentation, or there is no grounded answer.

Two kinds of subject come out of a message, both only from its questions:
  - names: capitalized or alphanumeric names ("Microsoft Teams", "Notion", "AIX 7.2",
    "POWER9"), which must appear as a phrase in one passage;
  - capability objects: what follows "is there", "do you have/support/offer", "is it possible
    to", "can I ... with/in/into" ("mind map view", "white-label"), whose content words must all
    appear in one passage.
Pure and deterministic; the database decides coverage (`reference.uncovered_subjects`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A question sentence: ends with "?" or opens with an English question form.
_SENTENCES = re.compile(r"[^.!?\n]+[.!?]*")
_QUESTION_OPENERS = re.compile(
    r"^\s*(?:is|are|can|could|do|does|did|will|would|how|what|where|which|why|when|who)\b",
    re.IGNORECASE)

# Capability questions: the object phrase is the named group.
_END = (r"(?=[,;:?!.]|\s+(?:so|that|which|because|where|when|what|who|how|if|instead|like"
        r"|or not)\b|$)")
_CAPABILITY = [
    re.compile(p + _END, re.IGNORECASE) for p in (
        r"\b(?:is|are) there (?:(?:a|an|any|some)\s+)?(?P<x>[^,;:?!.]{3,60}?)",
        r"\bdo(?:es)? (?:you|you guys|y'all|techcorp(?: cloud)?|it|the app) "
        r"(?:have|offer|support|provide|integrate with|work with|connect to|sync with) "
        r"(?:(?:a|an|any|some)\s+)?(?P<x>[^,;:?!.]{3,60}?)",
        r"\bis it possible to (?P<x>[^,;:?!.]{3,60}?)",
        r"\b(?:can|could) (?:i|we|you) (?:[\w'-]+ ){0,8}?"
        r"(?:with|inside|into|in|on|via|through|using) (?P<x>[^,;:?!.]{2,40}?)",
        r"\b(?:available|offered|supported) (?:as|on|for) (?:(?:a|an)\s+)?"
        r"(?P<x>[^,;:?!.]{3,60}?)",
        # the thing the customer has in mind, named by example: "…, like read receipts?"
        r"\b(?:like|such as|similar to|the way) (?P<x>[^,;:?!.]{3,40}?)",
    )
]
# The head of an object phrase ends at its first preposition or relative word: "a log of this"
# asks for a log, "a report that shows tracked time" for a report.
_HEAD_END = re.compile(r"\s+(?:of|for|per|in|on|to|with|from|by|at|about|than|between"
                       r"|i|we|you|they|it)(?=\s|$)", re.IGNORECASE)

# Names: a run of Capitalized / ALLCAPS / alphanumeric tokens (with inner "-", "." or digits).
_NAME_WORD = r"(?:[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*|[a-z]+[A-Z][A-Za-z0-9]*|\d+(?:\.\d+)*)"
_NAME = re.compile(rf"\b{_NAME_WORD}(?:\s+{_NAME_WORD})*\b")

# An object that starts with one of these refers back to something already named.
_REFERRING = _words("it this that them these those everything all anything something")
# Words that say nothing about what is asked for: the product itself, question scaffolding,
# quantities, generic nouns and adjectives. A subject made only of these is no subject.
_GENERIC = _words("""
    a an the any some our my your their its it this that these those there here
    i we you they he she me us them techcorp cloud app apps application tool tools product
    feature features option options way ways thing things setting settings
    integration integrations module modules function functionality
    support supported available possible version versions plan plans account accounts
    view views page pages also just still really actually maybe please
    to of for in on at by with from into inside via through using and or but so as
    get make have use do
    anything everything something nothing somewhere anywhere anyone someone person people
    human actual real better easier easy quick quicker faster simple simpler special new
    maximum minimum max min limit limits number amount size
    """)
# Capitalized words that are not names of things.
_NOT_NAMES = _words("""
    I I'm I've I'd I'll Is Are Can Could Do Does Did Will Would How What Where Which Why When
    Who Hi Hello Hey Dear Thanks Thank Please Also And But Or So If Our My We You It This That
    There The A An Any Some All OK Ok Yes No Re Fwd FW TechCorp Cloud
    """)


@dataclass(frozen=True)
class Subject:
    phrase: str
    exact: bool  # True: the phrase must appear as written; False: all its words in one passage


def asked_about(text: str) -> list[Subject]:
    """Return what the message's questions ask the product to have, in order, without repeats."""
    names = [_name(m.group(0)) for m in _NAME.finditer(text)]
    found: list[Subject] = []
    for sentence in _questions(text):
        for pattern in _CAPABILITY:
            for match in pattern.finditer(sentence):
                obj = match.group("x").strip()
                if obj.split()[0].lower() in _REFERRING:
                    continue
                head = _content_words(_HEAD_END.split(obj, maxsplit=1)[0])
                if head:
                    _add(found, Subject(" ".join(head), exact=False))
                for match in _NAME.finditer(obj):
                    if name := _name(match.group(0)):
                        _add(found, Subject(_longest(name, names), exact=True))
    return found


def _name(run: str) -> str:
    return " ".join(t for t in run.split() if t not in _NOT_NAMES)


def _longest(name: str, names: list[str]) -> str:
    """Return the fullest form the message uses for a name ("Teams" -> "Microsoft Teams")."""
    fuller = [n for n in names if n != name and (n.endswith(" " + name))]
    return max(fuller, key=len) if fuller else name


def _questions(text: str) -> list[str]:
    sentences = [s.strip() for s in _SENTENCES.findall(text) if s.strip()]
    return [s for s in sentences if s.endswith("?") or _QUESTION_OPENERS.match(s)]


def _content_words(phrase: str) -> list[str]:
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", phrase)
    return [w for w in words if w.lower() not in _GENERIC and len(w) > 1]


def _add(found: list[Subject], subject: Subject) -> None:
    if all(s.phrase.lower() != subject.phrase.lower() for s in found):
        found.append(subject)
