"""Tripwires on what comes in (prompt injection) and on what goes out (promises and leaks).

Both checks are pure pattern rules, so they run before and after any model, cost well under a
millisecond and give the same verdict every time. `check_input` looks for attempts to
re-program or unmask the agent, in English and the other languages customers write in, also
when hidden in code blocks, HTML comments or base64. `check_output` looks at a draft reply for
what only a person may say: prices, discounts, refunds and dates we commit to, our own
instructions, internal notes and other people's contact details.

The module also holds the text helpers the escalation rules share: `fold` (one normal form for
matching) and `Rules` (many regexes, each skipped unless the text has a word it can start with).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class GuardrailResult:
    tripped: bool
    code: str | None
    detail: str | None


PASSED: Final = GuardrailResult(tripped=False, code=None, detail=None)

# Addresses and numbers of the company itself, which a reply may always give out.
COMPANY_DOMAINS: Final = ("techcorp.com", "techcorp.example")
COMPANY_PHONES: Final = frozenset({"14155550100"})


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


_MARKS: Final = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff\ufe20-\ufe2f"
                           "\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
# (str.translate with a dict looks up every character; five replaces are faster)
_PLAIN_QUOTES: Final = (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'),
                        ("\u00a0", " "))
_SPACES: Final = re.compile(r"[ \t]+")


# --- matching many patterns fast ---------------------------------------------------------------
# `re` tries a pattern that starts with \b at every word edge, so a hundred of them over a
# kilobyte cost milliseconds. Nearly every pattern here starts with a plain word, though, and a
# pattern cannot match when no word of the text starts with it: `Rules` reads those first words
# off each pattern and skips the patterns whose words are absent, with one set lookup each.

_LITERAL: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789'")
_TOKEN: Final = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
_LONGEST_START: Final = 6


def word_starts(folded: str) -> frozenset[str]:
    """Return every beginning (1 to 6 characters) of every word of the folded text."""
    words = set(_TOKEN.findall(folded))
    words.update([part for word in words if "'" in word for part in word.split("'")])
    return frozenset(w[:i] for w in words for i in range(1, min(len(w), _LONGEST_START) + 1))


class Rules:
    """Alternative patterns, each tried only when the text has a word it can start with."""

    def __init__(self, *patterns: str, flags: int = re.MULTILINE) -> None:
        self._rules = tuple((_first_words(p), re.compile(p, flags)) for p in patterns)

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
    return frozenset(word[:_LONGEST_START] for word in found)


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


# --- input: prompt injection ---------------------------------------------------------------

_QUALIFIER = (r"(?:previous|prior|above|earlier|preceding|foregoing|original|initial|old|"
              r"existing|current|system|safety|default|hidden|given|programmed|security)")
_ORDERS = (r"(?:instructions?|prompts?|directives?|guardrails?|programming|training|"
           r"system messages?|commands|orders)")
_LIMITS = (r"(?:rules|guidelines|policies|restrictions|constraints|limitations|filters|"
           r"boundaries|ethics|morals|content policy|safeguards)")
_VERB_IGNORE = (r"(?:ignore|ignoring|disregard|forget|override|overrule|bypass|skip|drop|"
                r"abandon|discard|set aside|throw out|stop following|don't follow|do not follow|"
                r"no longer follow|circumvent|disable|turn off)")
_NOT_THEIR_OWN = r"(?!\s+(?:in|from|of)\s+(?:my|our)\b)(?!\s+(?:that\s+)?(?:i|we)\s)"
_PERSONA = (
    r"(?:unrestricted|unfiltered|uncensored|unlimited|jailbroken|evil|rogue|dan\b|stan\b|"
    r"an? (?:ai|llm|chatbot|language model)\b|(?:different|new|other|free|real) "
    r"(?:ai|assistant|model|bot|chatbot)|chatgpt|gpt-?\d|no (?:rules|restrictions|limits|"
    r"filters|guidelines|boundaries)|without (?:any )?(?:rules|restrictions|limits|filters|"
    r"guidelines|ethics|morals|boundaries|censorship)|free (?:from|of) (?:rules|restrictions)|"
    r"not bound|no longer bound|my (?:\w+ )?(?:grandma|grandmother|granny|nan|deceased|dead|"
    r"late)\b|"
    r"developer mode|god mode|(?:linux|bash|unix) (?:terminal|shell)|python interpreter|"
    r"hacker|sudo|root user|system administrator with|opposite (?:ai|mode))"
)
_INJECTION: Final = Rules(
    # "ignore all previous instructions", "disregard your rules"
    rf"\b{_VERB_IGNORE}\s+(?:all\s+|any\s+|every\s+|each\s+)?(?:of\s+)?(?:the\s+|your\s+|these\s+|"
    rf"those\s+|its\s+|all\s+)*(?:{_QUALIFIER}\s+(?:and\s+{_QUALIFIER}\s+)?)*{_ORDERS}\b"
    rf"{_NOT_THEIR_OWN}",
    rf"\b{_VERB_IGNORE}\s+(?:all\s+(?:of\s+)?|any\s+)?(?:your|all|the|any)\s+(?:{_QUALIFIER}\s+)?"
    rf"{_LIMITS}(?!\s+(?:for|in|on|of|about|that i|that we|i|we)\b)",
    rf"\b{_VERB_IGNORE}\s+(?:all\s+)?(?:{_QUALIFIER}\s+)+{_LIMITS}\b",
    rf"\b{_VERB_IGNORE}\s+(?:all\s+|everything\s+)?(?:(?:the|that|what('s| is| was))\s+)?"
    r"(?:above|before|prior|previous|earlier|you were told|you've been told|you have been told)"
    r"\b[\s,.;:!-]*(?:and\s+|then\s+|now\s+|instead\s+)*(?:say|print|tell|respond|reply|write|"
    r"output|answer|act|pretend|you|from now|translate|repeat|reveal|give|list|show|do|just|"
    r"only|start|begin|follow|obey|return|$)",
    # "reveal your system prompt", "print the hidden instructions"
    r"\b(?:system|initial|hidden|secret|original|developer|meta|pre)[ -]?prompts?\b",
    r"\b(?:reveal|print|show|display|output|repeat|recite|dump|leak|expose|disclose|share|give|"
    r"tell|send|paste|write out|spell out|list|copy|translate|summari[sz]e|what (?:is|are|were|"
    r"was)|what's)\b(?:\s+(?:me|us))?\s+(?:\w+\s+){0,3}?(?:(?:your|the|its|those|these)\s+)?"
    r"(?:(?:full|entire|complete|exact|original|initial|hidden|secret|internal|system|"
    r"developer|confidential|underlying|raw|verbatim|first|real|actual|operating)\s+)+"
    r"(?:instructions|rules|guidelines|message|messages|configuration|config|directives|"
    r"orders|programming)\b(?!\s+(?:for|on|about|to|regarding)\s+(?:my|our|the|a|an|how)\b)",
    r"\b(?:reveal|print|show|display|output|repeat|recite|dump|leak|disclose|share|give|tell|"
    r"send|paste|spell out|list|copy|what (?:are|were)|what's)\s+(?:me\s+|us\s+)?(?:all\s+)?"
    r"(?:of\s+)?your\s+(?:\w+\s+)?(?:instructions|prompt|programming|directives|"
    r"configuration|rules|guidelines)\b(?!\s+(?:for|on|about|to|regarding|when|if|around)\b)",
    r"\b(?:repeat|print|output|show|recite|copy)\s+(?:all\s+|everything\s+)?(?:of\s+)?"
    r"(?:the\s+)?(?:words|text|lines|everything|content)\s+(?:above|before|written above|"
    r"preceding|prior)\b",
    r"\beverything (?:above|before) this (?:line|message|point)\b",
    r"\b(?:how were you|what were you) (?:programmed|instructed|told|configured|prompted)\b",
    # "pretend you are an unrestricted AI", "act as DAN", "you are now in developer mode"
    rf"\b(?:pretend|imagine|suppose|act like|behave like|behave as)\s+(?:that\s+)?"
    rf"(?:you(?:'re| are| were)|to be|u r|ur|you're now)\b[^.!?\n]{{0,60}}?{_PERSONA}",
    rf"\b(?:act|acting|respond|answer|reply|speak|talk)\s+(?:as|like)\s+(?:if\s+you\s+(?:are|were)\s+)?"
    rf"(?:an?\s+|my\s+|the\s+)?[^.!?\n]{{0,30}}?{_PERSONA}",
    rf"\byou(?:'re| are) (?:now|no longer|not)\b[^.!?\n]{{0,40}}?(?:{_PERSONA}|an? ai\b|"
    r"an? assistant\b|(?:bound|restricted|limited) by|mode\b)",
    r"\bfrom now on,?\s+(?:you|u)\s+(?:are|'re|will (?:be|act|behave|respond|answer|reply|"
    r"ignore|only|always|never)|act|behave|respond|answer|reply|ignore|must|shall|have no|can|"
    r"won't|will not)\b",
    r"\b(?:role-?play|role play)(?:ing)?\s+(?:as|with me|a\b|an\b|that)",
    r"\b(?:stay|remain) in character\b|\bbreak character\b",
    # named jailbreaks and modes
    r"\bjailbreak(?:s|ing|ed)?\b",
    r"\bdo anything now\b|\bdan (?:mode|prompt|\d+(?:\.\d+)?)\b|\b(?:anti-?dan|stan|dude) mode\b",
    r"\b(?:god|sudo|unrestricted|unfiltered|uncensored|evil|jailbreak|opposite) mode\b",
    r"\b(?:admin|developer|system|root|sudo) (?:override|access granted|command)\b",
    # chat-template role markers and fake system sections
    r"<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|begin_of_text|"
    r"start_header_id|end_header_id|eot_id)\s*\|>",
    r"\[/?inst\]|<<\s*/?sys\s*>>|</?(?:system|sys|instructions?|assistant|prompt)>",
    r"^\s*#{1,6}\s*(?:system|instruction|instructions|new instructions|assistant|prompt|admin|"
    r"developer)\b",
    r"^\s*\[?(?:system|assistant|developer|admin)\]?\s*(?:prompt|message|override|note)?\s*:"
    r"\s*(?:you\b|ignore|disregard|new |from now|always|never|the assistant|reveal|forget|"
    r"override|respond|answer|act |pretend|do not|don't|print|output)",
    r"\[(?:system|admin|developer) (?:message|note|override|instructions?)\]",
    r"[\[({]\s*(?:system|admin|administrator|developer|assistant|root|operator)\s*:",
    r"\b(?:new|updated|real|actual|revised|additional|secret|hidden) (?:system )?"
    r"instructions?\s*:",
    r"\b(?:begin|start|end) (?:of )?(?:the )?(?:system|admin|developer|new) "
    r"(?:prompt|instructions?|message)\b",
    r"\b(?:ai|assistant|llm|language model|chatbot|bot|gpt)\s*[,:]\s*(?:please\s+)?(?:ignore|"
    r"disregard|forget|reveal|override|approve|grant|issue|mark this|close this|you must|"
    r"you will now|you are now)\b",
    r"\b(?:note|message|instructions?) (?:to|for) (?:the )?(?:ai|assistant|llm|language model|"
    r"chatbot|bot|model|agent)\s*:",
    # asking the agent for secrets or for other people's data
    r"\b(?:tell|give|send|show|share|read|list|print|reveal|leak|dump|paste|forward|provide)\s+"
    r"(?:me|us)\s+(?!how|where|why|what|when|if|whether)(?:\w+\s+){0,4}?(?:api keys?|"
    r"passwords?|credentials|secret keys?|access tokens?|tokens?|recovery codes?|"
    r"(?:admin|administrator|owner)(?:'s)? (?:email|e-mail|phone|password|address))\b"
    r"[^.!?\n]{0,40}?\b(?:admin|administrator|owner|another|other|someone|workspace|account|"
    r"company|one|techcorp)\b",
    r"\b(?:list|show|give|send|tell|share|print|reveal|dump|export|display|provide|forward)\b"
    r"[^.!?\n]{0,40}?\b(?:the last|last|recent|previous|other|all the|all|\d+|five|ten|twenty)"
    r"\s+(?:\w+\s+)?(?:tickets|conversations|customers|users|chats|messages|requests)\b"
    r"[^.!?\n]{0,80}?\b(?:names?|emails?|email addresses|phone numbers?|addresses|"
    r"contact details|personal data)\b",
    r"\b(?:list|show|give|send|tell|share|print|reveal|dump|export|display|provide|forward)\b"
    r"[^.!?\n]{0,40}?\b(?:other|another) (?:customers?|users?|clients?|companies|company)(?:'s|')?"
    r"\s+(?:\w+\s+)?(?:data|emails?|email addresses|names|phone numbers|details|information|"
    r"tickets|messages|info|internal notes)\b",
    r"\b(?:show|give|send|tell|share|print|reveal|read)\s+(?:me|us)\s+(?:the\s+|your\s+|any\s+)?"
    r"internal notes?\b",
    # other languages: es, pt, it / fr / de / Roman Urdu-Hindi
    r"\b(?:ignora|ignore|ignorar|ignoren|olvida|olvide|olvidar|olviden|omite|descarta|esqueca|"
    r"esquece|esquecer|desconsidere|desconsidera)\s+(?:todas\s+|todo\s+)?(?:las|tus|sus|as|"
    r"suas|tuas|le|tutte le)\s+(?:\w+\s+)?(?:instrucciones|reglas|indicaciones|instrucoes|regras|"
    r"orientacoes|istruzioni|regole)\b(?!\s+que\s+(?:te|le|les|lhe|eu)\b)",
    r"\b(?:ignore[rz]?|oublie[rz]?|neglige[rz]?)\s+(?:toutes\s+|tout\s+)?(?:les|tes|vos)\s+"
    r"(?:\w+\s+)?(?:instructions|regles|consignes|directives)\b(?!\s+que\s+(?:je|nous)\b)",
    r"\b(?:ignorier(?:e|en sie)?|vergiss|vergessen sie|missachte)\s+(?:alle\s+)?"
    r"(?:deine\s+|ihre\s+|die\s+)?(?:\w+\s+)?(?:anweisungen|regeln|instruktionen|vorgaben|"
    r"befehle)\b",
    r"\b(?:muestra|muestrame|revela|dime|ensename|mostre|mostra|revele|diga|montre|"
    r"montre-moi|revele|donne|zeig|zeige|zeigen sie|verrate|nenne)\s+(?:\w+\s+){0,2}?"
    r"(?:prompt|instrucciones|instrucoes|instructions|anweisungen|systemprompt|regles cachees)\b"
    r"(?:\s+(?:del sistema|do sistema|du systeme|system|ocultas|secretas|cachees))?",
    r"\b(?:modo (?:desarrollador|desenvolvedor|sin restricciones|sem restricoes)|"
    r"mode developpeur|entwicklermodus)\b",
    r"\b(?:actua|actue|age|finge|finja|fais comme si|agis comme|tu so als|verhalte dich wie)\b"
    r"[^.!?\n]{0,40}?\b(?:ia|ki|ai)\s+(?:sin|sem|sans|ohne)\s+(?:restricciones|restricoes|"
    r"restrictions|regles|filtros|filtres|einschrankungen|regeln)",
    r"\b(?:pichl[ie]|pehl[ie]|purani|saari|sari|sab|tamam|apni|apne)\s+(?:\w+\s+)?"
    r"(?:instructions?|hidayat|hidayaat|rules?|niyam)\s+(?:ko\s+)?(?:ignore|bhool|bhul|chhod|chor|"
    r"nazarandaz|nazar andaz)",
    r"\bignore\s+kar(?:o|en|ein|do)\s+(?:\w+\s+)?(?:saari|sari|sab|pichli|pichle|apni|apne)\s+"
    r"(?:instructions?|hidayat|hidayaat|rules?)",
    r"\b(?:apna|apne|apni|tumhare|tumhari|aap ke|aapke)\s+(?:system\s+)?(?:prompt|instructions?|"
    r"hidayat|hidayaat|rules)\s+(?:batao|bata do|btao|dikhao|dikha do|share karo|likho)",
)

# Phrases that are injections unless what comes just before them makes them innocent:
# "how do I enable developer mode?" asks about a setting, "my phone is jailbroken" about a phone.
_UNLESS_AFTER: Final = (
    (re.compile(r"\bdeveloper mode\b(?! (?:in|on|of|for) (?:the |my |our )?(?:app|settings|api|"
                r"account|workspace|browser|phone|android|ios|chrome))"),
     re.compile(r"\b(?:how (?:do|can|would|should) (?:i|we)|how to|where (?:is|do i|can i)|"
                r"is there)\b[^.?!\n]{0,30}$")),
    (re.compile(r"\bjailbroken\b(?!\s+(?:phone|iphone|ipad|device|android|mobile))"),
     re.compile(r"\b(?:phone|iphone|ipad|device|android|mobile|tablet)s?\s+(?:is|are|was|were|"
                r"has been|have been)\s+$")),
)

# Directives to a model hidden in code blocks or HTML comments.
_HIDDEN_BLOCK: Final = re.compile(r"```.*?(?:```|$)|<!--.*?(?:-->|$)", re.DOTALL)
_HIDDEN_DIRECTIVE: Final = Rules(
    r"\b(?:you|assistant|ai|model|bot|agent|llm)\s+(?:must|should|will|shall|are now|now)\b",
    r"\b(?:respond|reply|answer)\s+(?:only\s+)?(?:with|by saying)\b",
    r"\b(?:ignore|disregard|forget)\s+(?:all|the|your|any|previous|prior|above|everything|"
    r"these|those)\b",
    r"\bnew instructions?\b|\binstead,? (?:say|write|reply|respond)\b",
)
_BLOB: Final = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}|[A-Za-z0-9_-]{32,}={0,2}")
_DECODE_AND_FOLLOW: Final = Rules(
    r"\b(?:decode|base64|b64|rot13|from hex)\b[^\n]{0,80}?\b(?:follow|execute|run|obey|do what|"
    r"carry out|comply|act on|perform|instructions?|do it|then do)\b",
    r"\b(?:follow|execute|run|obey|carry out|act on|perform)\b[^\n]{0,60}?\b(?:decoded|"
    r"base64|encoded)\b",
)
_LEETISH: Final = re.compile(r"[a-z][013457@$|]+[a-z]")
_LEET: Final = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                              "@": "a", "$": "s", "|": "i"})


def check_input(text: str) -> GuardrailResult:
    """Return a tripped result when the message tries to re-program or unmask the agent."""
    return _injection(text, depth=0)


def _injection(text: str, *, depth: int) -> GuardrailResult:
    folded = fold(text)
    candidates = [folded]
    if _LEETISH.search(folded):
        candidates.append(folded.translate(_LEET))
    for candidate in candidates:
        if match := _INJECTION.search(candidate):
            return _tripped("prompt_injection", match.group(0))
        for pattern, innocent_before in _UNLESS_AFTER:
            found = pattern.search(candidate)
            if found and not innocent_before.search(candidate, 0, found.start()):
                return _tripped("prompt_injection", found.group(0))
    for block in _HIDDEN_BLOCK.findall(folded):
        if match := _HIDDEN_DIRECTIVE.search(block):
            return _tripped("prompt_injection", f"hidden directive: {match.group(0)}")
    if _BLOB.search(text):
        if match := _DECODE_AND_FOLLOW.search(folded):
            return _tripped("prompt_injection", f"encoded instructions: {match.group(0)}")
        if depth == 0:
            for decoded in _decoded_blobs(text):
                if (inner := _injection(decoded, depth=1)).tripped:
                    return _tripped("prompt_injection", f"encoded: {inner.detail}")
    return PASSED


def _decoded_blobs(text: str) -> Iterable[str]:
    """Yield the base64 blobs of the text that decode to readable text."""
    for blob in _BLOB.findall(text):
        padded = blob + "=" * (-len(blob) % 4)
        try:
            raw = base64.b64decode(padded, altchars=b"-_" if "-" in blob or "_" in blob else None)
            decoded = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if decoded and sum(c.isprintable() or c.isspace() for c in decoded) / len(decoded) > 0.9:
            yield decoded


# --- output: promises, leaks and other people's data -----------------------------------------

_NEGATED: Final = re.compile(
    r"\b(?:not|never|no|cannot|can't|won't|unable|isn't|aren't|don't|doesn't|couldn't|"
    r"wouldn't|neither|nor)\b|n't\b"
)
_US = (r"(?:we|i|techcorp|our (?:billing |support |finance |account )?team|the billing team|"
       r"billing)")
_WILL = (r"(?:will|'ll|shall|can|could|would|have|'ve|has|are going to|'re going to|"
         r"am going to|'m going to|are happy to|'re happy to|am happy to|'m happy to|"
         r"would be happy to|'d be happy to|are able to|'re able to|am able to|'m able to|"
         r"will be able to|'ll be able to|have decided to|'ve decided to|are pleased to|"
         r"'re pleased to|am pleased to|'m pleased to|'d like to|would like to|want to|"
         r"are offering|'re offering|am offering|'m offering|already)")
_ADVERB = r"(?:(?:also|gladly|happily|immediately|promptly|now|then|just|fully|certainly|" \
          r"definitely|personally|already|of course|be able to|be happy to)\s+)*"
_AMOUNT = r"\d[\d,]*(?:\.\d+)?"
_CURRENCY = (r"(?:usd|eur|gbp|inr|pkr|aud|cad|dollars?|euros?|pounds?|bucks|cents?|rupees?|"
             r"reais|pesos?)")
_PRICE: Final = Rules(
    rf"(?:[$€£¥₹]|\b(?:usd|eur|gbp|inr|pkr|rs\.?|us\$|a\$|c\$|r\$))\s?{_AMOUNT}",
    rf"\b{_AMOUNT}\s?(?:[$€£¥₹]|{_CURRENCY}\b)",
    rf"\b{_AMOUNT}\s*(?:per|/|a|an|each)\s*(?:seat|user|licen[cs]e|member)s?\b",
    rf"\b(?:costs?|priced at|price is|prices? (?:start|starts) at|pricing is|fee is|charge is|"
    rf"billed at|pay only|pay just|only pay|will pay|would pay|would cost|will cost|comes to|"
    rf"totals?)\s+(?:only\s+|just\s+|about\s+|around\s+|roughly\s+|approximately\s+)?{_AMOUNT}\b",
)
_DISCOUNT: Final = Rules(
    r"\b\d{1,3}(?:\.\d+)?\s?%\s?(?:off|discount|reduction|cheaper|less|rebate|lower)\b",
    rf"\b{_US}\s*{_WILL}\s+{_ADVERB}(?:give|offer|apply|provide|extend|honou?r|add|send|grant|"
    r"arrange|get|set up|include|throw in|match)\s+(?:you\s+|your (?:team|company|workspace)\s+)?"
    r"(?:\w+\s+){0,3}?(?:discount|coupon|promo(?:tional)? code|voucher|rebate|price match|"
    r"lower price|reduced (?:price|rate)|special (?:price|rate|deal|offer)|"
    r"free (?:month|months|upgrade|seats?|year|trial extension))",
    r"\byou(?:'ll| will| can| are going to|'re going to)\s+(?:get|receive|have|enjoy|keep)\s+"
    r"(?:a |an |your |the )?(?:\w+\s+){0,2}?(?:discount|coupon|promo code|voucher|rebate|"
    r"free (?:month|months|upgrade|seats?|year))",
    r"\b(?:here is|here's|use)\s+(?:your |a |the |this )?(?:discount|coupon|promo(?:tional)?|"
    r"voucher)\s+code\b",
    r"\b(?:discount|coupon|promo) code\s*:?\s*[a-z0-9]*\d[a-z0-9]*\b",
    r"\b(?:free of charge|at no (?:extra |additional )?(?:cost|charge)|on the house|"
    r"complimentary (?:upgrade|month|months|seats?|year))\b",
    r"\bwaive (?:the|your|any) (?:fee|fees|charge|charges|cost|overage)\b",
    r"\block in (?:the|your|a|today's) (?:current )?(?:price|rate)\b",
)
_REFUND: Final = Rules(
    rf"\b{_US}\s*{_WILL}\s+{_ADVERB}(?:refund|reimburse|credit (?:you|your|back|the)|"
    r"issued? (?:you )?(?:a |the |your )?(?:full |partial )?(?:refund|credit|reimbursement)|"
    r"process(?:ed)? (?:a|your|the) (?:full |partial )?(?:refund|reimbursement)|"
    r"return(?:ed)? (?:your|the) (?:money|payment)|(?:give|gave|given) you (?:a |your )?"
    r"(?:full |partial )?(?:refund|money back)|(?:send|sent) (?:you )?(?:a |your |the )?"
    r"(?:refund|money back)|"
    r"refunded|reimbursed|credited|approved (?:your|the|a) (?:refund|reimbursement))",
    r"\byour (?:full |partial )?(?:refund|reimbursement|money|credit)\s+(?:has been|was|is being|"
    r"will be|'ll be|is|has|should be)\s+(?:\w+\s+)?(?:processed|issued|approved|sent|initiated|"
    r"refunded|returned|credited|on (?:its|the) way|confirmed|granted|completed|back)",
    r"\byou(?:'ll| will| should| are going to|'re going to| can expect to)\s+(?:\w+\s+)?"
    r"(?:get|receive|see|have)\s+(?:your |a |the |a full |a partial |the full )?"
    r"(?:\w+\s+)?(?:refund|money back|reimbursement|money returned)",
    r"\b(?:full |partial )?refund (?:has been |is |was |will be )?(?:approved|issued|processed|"
    r"granted|confirmed|on its way)\b",
    r"\b(?:get|have) your money back\b",
)
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu|" \
           r"thurs?|fri|sat|sun)"
_MONTH = (r"(?:january|february|march|april|may|june|july|august|september|october|november|"
          r"december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)")
_COUNT = (r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty-four|"
          r"forty-eight|a few|a couple of|couple of|several)")
_UNIT = r"(?:business\s+|working\s+|calendar\s+)?(?:minutes?|hours?|days?|weeks?|months?)"
_WHEN: Final = Rules(
    rf"\b(?:by|before|on|until|till|no later than|as of|from|this|next|coming)\s+(?:the\s+)?"
    rf"(?:next\s+|this\s+|coming\s+)?(?:{_WEEKDAY}|{_MONTH}\s+\d{{1,2}}|\d{{1,2}}(?:st|nd|rd|th)?"
    rf"(?:\s+of)?\s+{_MONTH}|\d{{1,2}}[/.]\d{{1,2}}|tomorrow|tonight|today|eod|eow|cob|"
    rf"end of (?:the )?(?:day|week|month|quarter|year|business day)|midnight|noon|"
    rf"\d{{1,2}}(?::\d{{2}})?\s?(?:am|pm))\b",
    rf"\b(?:within|in)\s+(?:the\s+next\s+|about\s+|around\s+|roughly\s+|less than\s+)?"
    rf"{_COUNT}\s+{_UNIT}\b",
    r"\b(?:next|this|coming)\s+(?:week|month|quarter|year|weekend|sprint|release|update|"
    r"version|business day)\b",
    rf"\b(?:tomorrow|tonight|later today|end of (?:the )?(?:day|week|month)|eod|eow|"
    rf"{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}|"
    rf"q[1-4](?:\s+20\d\d)?|20\d\d-\d\d-\d\d)\b",
    r"\btoday\b",
)
_WHO = (r"(?:we|i|our (?:team|engineers|developers|devs|billing team|specialists?|product team)|"
        r"the (?:team|engineers|developers|fix|patch|update|release|feature|bug|issue|problem|"
        r"outage|refund|credit|replacement|new version|integration|specialist)|"
        r"a specialist|someone|somebody|engineering|it|this|that|they)")
_COMMIT: Final = Rules(
    rf"\b{_WHO}\s*(?:'ll|will|shall|should|are going to|is going to|'s going to|'re going to|"
    r"am going to|'m going to|expect to|plan to|aim to|promise to|intend to|are scheduled to|"
    r"is scheduled to|is expected to|are expected to|will have|'ll have)\s+"
    r"(?:definitely\s+|certainly\s+|surely\s+|then\s+|also\s+|be\s+|have\s+|been\s+)*"
    r"(?P<verb>\w+)",
    r"\b(?:we're|we are|i'm|i am|the team is|engineering is)\s+(?:shipping|releasing|fixing|"
    r"deploying|launching|rolling out|sending|processing|refunding|delivering|aiming|planning)\b",
    r"\b(?:the )?(?:fix|patch|update|release|feature|new version|refund|replacement)\s+"
    r"(?:is|are|'s)\s+(?:coming|landing|arriving|going live|shipping|due|scheduled|planned|"
    r"expected)\b",
    r"\b(?:expected|scheduled|planned|promised|guaranteed)\s+(?:to\s+(?:be\s+)?)?(?:fixed|"
    r"resolved|released|shipped|deployed|live|available|ready|restored|done|launched|for)\b",
    r"\b(?:the )?(?:eta|timeline|target date|due date for the fix) (?:is|will be|for)\b",
    r"\byou(?:'ll| will| should)\s+(?:hear back|hear from|get (?:a |an )?(?:reply|response|"
    r"answer|call|update|fix|refund)|receive (?:a |an |your )?(?:reply|response|answer|call|"
    r"update|fix|refund))",
)
# Verbs after "it will …" that describe how the product behaves, not what we promise.
_FACT_VERBS: Final = frozenset({
    "expire", "expires", "stop", "remain", "stay", "kept", "deleted", "erased", "removed",
    "retried", "valid", "lock", "locked", "unlocked", "redirect", "signed", "take", "last",
    "sync", "arrive", "appear", "show", "count", "keep", "continue", "run", "need", "require",
})
_NO_DATE_PROMISE: Final = re.compile(
    r"\b(?:can't|cannot|can not|unable to|not able to|won't|don't) (?:promise|commit|guarantee|"
    r"give (?:you )?(?:a|an) (?:date|eta|timeline))\b|\bno (?:eta|timeline|date) (?:yet|to share)\b"
)
_LEAK_PHRASES: Final = Rules(
    r"\b(?:my|the) (?:system )?(?:instructions|prompt|guidelines|rules|programming|directives)\s+"
    r"(?:say|says|state|states|tell me|told me|are|require|requires|forbid|forbids|prevent|"
    r"prevents|don't allow|do not allow|say that|specify)\b",
    r"\bi (?:was|am|have been|'ve been|'m) (?:instructed|told|programmed|configured|prompted)\s+"
    r"(?:to|not to|that)\b",
    r"\b(?:according to|per|based on|under) my (?:instructions|prompt|system prompt|guidelines|"
    r"programming|rules|directives)\b",
    r"\b(?:my|the) (?:system prompt|hidden (?:rules|instructions)|internal (?:rules|instructions))"
    r"\b",
)
_INTERNAL: Final = Rules(
    r"\binternal[ -](?:note|notes|only|use only|comment|memo|ticket note|remark)\b",
    r"\[\s*(?:internal|staff only|private|agent note|note to self|todo|internal note|"
    r"not for customer)\s*\]|</?internal>",
    r"\b(?:do not|don't|never) (?:share|show|send|forward|disclose|tell|mention)\s+(?:this\s+|"
    r"that\s+)?(?:\w+\s+)?(?:with|to)\s+(?:the\s+)?(?:customer|client|user)s?\b",
    r"\bnot (?:for|to be shared with) (?:the )?(?:customer|client)s?\b",
    r"\bnote to self\b|\bfor internal use\b|\b(?:staff|agents?|employees?) only\b",
    r"\bconfidential[:\s-]+internal\b|\b(?:agent|internal|private|staff) note\s*:",
    r"^\s*(?:todo|fixme)\b\s*:?",
)
_EMAIL: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE: Final = re.compile(r"(?<![\w/.:-])\+?\(?\d[\d\s().-]{6,}\d(?![\w/-])")
_IPV4: Final = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_SENTENCE_BREAK: Final = re.compile(r"(?<=[.!?;])\s+|\n+")
_LEAK_RUN: Final = 8  # consecutive words shared with the system prompt that count as a leak


def check_output(reply: str, *, system_prompt: str,
                 customer_identifiers: Collection[str] = ()) -> GuardrailResult:
    """Return a tripped result when a draft reply says what only a person may say.

    Checked in this order: prompt leak, internal note, another customer's data, then promises
    of price, discount, refund and date. Durations the product documents ("valid for 60
    minutes") are facts, not promises; only dates we commit to trip.
    """
    folded = fold(reply)
    starts = word_starts(folded)
    if (leak := _prompt_leak(folded, starts, system_prompt)) is not None:
        return _tripped("prompt_leak", leak)
    if match := _INTERNAL.search(folded, starts):
        return _tripped("internal_note", match.group(0))
    if (other := _other_customer_data(reply, customer_identifiers)) is not None:
        return _tripped("other_customer_data", other)
    if match := _PRICE.search(folded, starts):
        return _tripped("price_promise", match.group(0))
    for code, pattern in (("discount_promise", _DISCOUNT), ("refund_promise", _REFUND)):
        if (found := _committed(pattern, folded, starts)) is not None:
            return _tripped(code, found)
    if (date := _date_promise(folded, starts)) is not None:
        return _tripped("date_promise", date)
    return PASSED


def _committed(pattern: Rules, folded: str, starts: frozenset[str]) -> str | None:
    """Return the first match that no negation in its own clause takes back."""
    for match in pattern.finditer(folded, starts):
        clause_start = max(folded.rfind(p, 0, match.start()) for p in (".", "!", "?", ";", "\n"))
        before = folded[max(clause_start + 1, match.start() - 40):match.start()]
        if not _NEGATED.search(before) and not _NEGATED.search(match.group(0)):
            return match.group(0)
    return None


def _date_promise(folded: str, starts: frozenset[str]) -> str | None:
    for sentence in _SENTENCE_BREAK.split(folded):
        when = _WHEN.search(sentence, starts)
        if when is None or _NO_DATE_PROMISE.search(sentence):
            continue
        for commit in _COMMIT.finditer(sentence, starts):
            verb = commit.groupdict().get("verb")
            if verb not in _FACT_VERBS and not _NEGATED.search(commit.group(0)):
                return f"{commit.group(0)} … {when.group(0)}"
    return None


@functools.lru_cache(maxsize=8)
def _prompt_runs(system_prompt: str) -> frozenset[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9_]+", fold(system_prompt))
    return frozenset(tuple(words[i:i + _LEAK_RUN]) for i in range(len(words) - _LEAK_RUN + 1))


def _prompt_leak(folded: str, starts: frozenset[str], system_prompt: str) -> str | None:
    if match := _LEAK_PHRASES.search(folded, starts):
        return match.group(0)
    runs = _prompt_runs(system_prompt)
    if not runs:
        return None
    words = re.findall(r"[a-z0-9_]+", folded)
    for i in range(len(words) - _LEAK_RUN + 1):
        if (run := tuple(words[i:i + _LEAK_RUN])) in runs:
            return " ".join(run)
    return None


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _other_customer_data(reply: str, identifiers: Collection[str]) -> str | None:
    """Return an email address or phone number in the reply that is not the customer's own."""
    known = {value.strip().lower().removeprefix("mailto:") for value in identifiers}
    known_phones = {d for value in identifiers if len(d := _digits(value)) >= 7}
    for address in _EMAIL.findall(reply):
        address = address.lower().rstrip(".")
        domain = address.rpartition("@")[2]
        if address in known or any(domain == d or domain.endswith("." + d)
                                   for d in COMPANY_DOMAINS):
            continue
        return f"email address {address}"
    for match in _PHONE.finditer(reply):
        number = match.group(0).strip()
        digits = _digits(number)
        separated = digits != number.lstrip("+")
        if (not 8 <= len(digits) <= 15 or (not separated and len(digits) < 10)
                or _IPV4.match(number) or _ISO_DATE.search(number)):
            continue
        if digits in COMPANY_PHONES or any(
                digits.endswith(k[-9:]) or k.endswith(digits[-9:]) for k in known_phones):
            continue
        return f"phone number {number}"
    return None


def _tripped(code: str, detail: str) -> GuardrailResult:
    return GuardrailResult(tripped=True, code=code, detail=detail.strip()[:200])
