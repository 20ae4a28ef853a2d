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
from dataclasses import dataclass
from typing import Final

from production.agent.guardrails import fold

# Emotion and judgement words, valence -4 … +4. English first, then Spanish, French, German,
# Portuguese and Roman Urdu/Hindi words that customers mix in. Accents are stripped before lookup.
_LEXICON: Final[dict[str, float]] = {
    # strongly negative: anger, contempt, despair
    "angry": -3.0, "angrier": -3.0, "furious": -3.5, "livid": -3.5, "outraged": -3.5,
    "outrageous": -3.0, "pissed": -3.0, "enraged": -3.5, "fuming": -3.2, "mad": -2.0,
    "terrible": -3.0, "horrible": -3.0, "horrendous": -3.2, "awful": -3.0, "worst": -3.2,
    "pathetic": -3.0, "ridiculous": -2.6, "absurd": -2.3, "unacceptable": -3.0,
    "disgusting": -3.0, "disgraceful": -3.0, "disgrace": -3.0, "shameful": -2.6,
    "useless": -2.8, "worthless": -3.0, "garbage": -3.0, "junk": -2.5, "rubbish": -2.6,
    "incompetent": -3.0, "incompetence": -3.0, "clueless": -2.3, "hate": -3.0, "hated": -3.0,
    "scam": -3.0, "scammed": -3.2, "liars": -3.0, "lied": -2.6, "lying": -2.4, "ripoff": -3.0,
    "nightmare": -2.6, "disaster": -2.6, "sucks": -3.0, "sucked": -2.6, "suck": -2.4,
    "inexcusable": -3.0, "appalling": -3.0, "atrocious": -3.0, "dreadful": -3.0,
    "lousy": -2.5, "unprofessional": -2.8, "hopeless": -2.6, "desperate": -2.8,
    "desperately": -2.6, "panicking": -2.6, "devastated": -3.0, "ruined": -2.8,
    "betrayed": -3.0, "cheated": -3.0, "robbed": -3.0, "idiots": -3.0, "idiot": -3.0,
    "stupid": -2.6, "moronic": -3.0, "morons": -3.0, "clowns": -2.6, "joke": -1.5,
    "unusable": -2.6, "screwed": -2.6, "distrust": -2.2, "mistrust": -2.2, "sloppy": -2.0,
    "negligent": -2.6, "negligence": -2.6, "appalled": -3.0, "disgusted": -3.0,
    "horrified": -2.6, "embarrassing": -2.0, "humiliating": -2.6, "insulting": -2.6,
    "outrage": -3.0, "miserable": -3.0, "heartbroken": -3.0, "crying": -2.4,
    "exhausted": -1.8, "overwhelmed": -1.6, "misuse": -1.5, "unfair": -2.0, "shady": -2.4,
    "insane": -2.0, "infuriating": -3.2, "infuriated": -3.2,
    "ignored": -2.3, "ignoring": -2.0, "fraud": -3.0,
    "furiosa": -3.5, "furioso": -3.5, "enojado": -3.0, "enojada": -3.0, "enfadado": -3.0,
    "harto": -2.6, "harta": -2.6, "pesimo": -3.0, "pesima": -3.0, "basura": -3.0,
    "inaceptable": -3.0, "ridiculo": -2.6, "verguenza": -2.6,
    "furieux": -3.5, "furieuse": -3.5, "inacceptable": -3.0, "inadmissible": -3.0,
    "honteux": -2.6, "nul": -2.5, "nulle": -2.5, "catastrophique": -3.0, "enerve": -2.6,
    "wutend": -3.0, "sauer": -2.4, "verargert": -2.6, "unverschamt": -3.0, "frechheit": -3.0,
    "inakzeptabel": -3.0, "schrecklich": -3.0, "katastrophe": -2.6, "katastrophal": -3.0,
    "nutzlos": -2.8,
    "pessimo": -3.0, "pessima": -3.0, "horrivel": -3.0, "inaceitavel": -3.0, "lixo": -3.0,
    "porcaria": -2.6, "absurdo": -2.4, "vergonha": -2.6,
    "bakwas": -3.0, "bakwaas": -3.0, "ghatiya": -3.0, "bekar": -2.6, "bekaar": -2.6,
    "faltu": -2.5, "faltoo": -2.5, "gussa": -2.6, "dhoka": -3.0, "dhokebaaz": -3.2,
    "pagal": -1.8,
    # moderately negative: frustration, disappointment
    "frustrated": -1.6, "frustrating": -1.6, "frustration": -1.6, "annoyed": -1.5,
    "annoying": -1.5, "irritated": -1.5, "irritating": -1.5, "disappointed": -1.6,
    "disappointing": -1.6, "disappointment": -1.6, "upset": -1.6, "unhappy": -1.6,
    "dissatisfied": -1.8, "sad": -1.3, "bad": -1.2, "poor": -1.0, "worse": -1.6, "mess": -1.4,
    "messed": -1.3, "shocked": -1.6, "shocking": -1.8, "wasted": -1.8, "waste": -1.8,
    "nonsense": -1.8, "unreliable": -1.8, "helpless": -1.8, "stressed": -1.6, "stress": -1.2,
    "panic": -2.0, "regret": -1.6, "ugh": -1.4, "argh": -1.6, "smh": -1.4, "meh": -0.8,
    "unbelievable": -1.2, "seriously": -0.6, "sigh": -0.8,
    "molesto": -1.5, "molesta": -1.5, "decepcionado": -1.6, "decepcionada": -1.6,
    "malo": -1.2, "peor": -1.6, "decu": -1.6, "decue": -1.6, "enttauscht": -1.6,
    "schlecht": -1.2, "mist": -1.6, "chateado": -1.6, "chateada": -1.6, "irritado": -1.5,
    "irritada": -1.5, "bura": -1.2, "ganda": -1.5, "pareshan": -1.6, "pareshaan": -1.6,
    # positive
    "thanks": 1.5, "thank": 1.5, "thx": 1.2, "thanx": 1.2, "appreciate": 2.0,
    "appreciated": 2.0, "great": 2.4, "good": 1.6, "awesome": 3.0, "amazing": 3.0,
    "excellent": 3.0, "fantastic": 3.0, "wonderful": 3.0, "perfect": 2.6, "perfectly": 2.4,
    "love": 3.0, "loved": 3.0, "loving": 2.6, "lovely": 2.5, "helpful": 2.2, "nice": 1.8,
    "happy": 2.2, "glad": 2.0, "pleased": 2.2, "satisfied": 2.0, "cool": 1.3,
    "brilliant": 3.0, "superb": 3.0, "impressed": 2.5, "impressive": 2.5, "smooth": 1.4,
    "easy": 1.2, "solved": 1.5, "resolved": 1.5, "fixed": 1.2, "kind": 1.2, "quick": 1.0,
    "best": 2.4, "enjoy": 2.0, "enjoying": 2.0, "recommend": 2.0, "delighted": 3.0,
    "grateful": 2.5, "cheers": 1.2, "yay": 2.0, "wow": 1.0, "works": 0.8, "worked": 1.0,
    "gracias": 1.5, "excelente": 3.0, "genial": 2.4, "perfecto": 2.6, "bueno": 1.5,
    "feliz": 2.2, "merci": 1.5, "parfait": 2.6, "super": 2.0, "danke": 1.5, "toll": 2.4,
    "prima": 2.0, "perfekt": 2.6, "obrigado": 1.5, "obrigada": 1.5, "otimo": 2.5,
    "perfeito": 2.6, "shukriya": 1.5, "shukria": 1.5, "dhanyavaad": 1.5, "zabardast": 3.0,
    "kamaal": 2.5, "acha": 0.6, "accha": 0.6,
}

# Words that only name a fault: they count a little, and all of them together at most
# `_PROBLEM_FLOOR`, so a calm bug report stays near neutral.
_PROBLEM_WORDS: Final[frozenset[str]] = frozenset({
    "broken", "broke", "error", "errors", "crash", "crashes", "crashed", "crashing", "bug",
    "bugs", "buggy", "fail", "fails", "failed", "failing", "failure", "issue", "issues",
    "problem", "problems", "stuck", "wrong", "slow", "outage", "missing", "lost", "unable",
    "glitch", "glitchy", "freeze", "freezes", "frozen", "laggy", "confusing", "confused",
    "trouble", "urgent", "urgently", "asap", "emergency", "critical", "blocked", "locked",
    "problema", "probleme", "fehler", "erro", "urgente", "dringend",
})
_PROBLEM_VALENCE: Final = -0.5
_PROBLEM_FLOOR: Final = -1.0

_NEGATORS: Final[frozenset[str]] = frozenset({
    "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "hardly",
    "barely", "cannot", "cant", "dont", "doesnt", "isnt", "wasnt", "arent", "werent", "wont",
    "didnt", "havent", "hasnt", "hadnt", "couldnt", "shouldnt", "wouldnt", "aint", "nunca",
    "pas", "jamais", "nicht", "kein", "keine", "nie", "nao", "nahi", "nahin", "isn't",
    "doesn't", "don't", "won't", "can't", "didn't", "wasn't", "aren't", "weren't", "haven't",
    "hasn't", "hadn't", "couldn't", "shouldn't", "wouldn't", "ain't", "stopped",
})
_NEGATION_FACTOR: Final = -0.74
# "isn't working", "won't load": a fault when negated, nothing otherwise.
_FAULT_IF_NEGATED: Final[frozenset[str]] = frozenset({
    "work", "working", "load", "loading", "sync", "syncing", "open", "opening", "arrive",
    "arriving", "show", "showing",
})

_INTENSIFIERS: Final[dict[str, float]] = {
    "very": 1.3, "really": 1.3, "extremely": 1.5, "so": 1.3, "totally": 1.3, "absolutely": 1.4,
    "completely": 1.4, "utterly": 1.5, "incredibly": 1.5, "truly": 1.3, "highly": 1.3,
    "too": 1.2, "such": 1.2, "insanely": 1.4, "deeply": 1.3, "beyond": 1.3, "most": 1.2,
    "bahut": 1.3, "bohat": 1.3, "bohot": 1.3, "muy": 1.3, "tres": 1.3, "sehr": 1.3,
    "muito": 1.3, "tan": 1.2, "super": 1.3, "vraiment": 1.3, "wirklich": 1.3,
    "bit": 0.6, "slightly": 0.6, "somewhat": 0.7, "kinda": 0.7, "little": 0.7, "fairly": 0.8,
    "rather": 0.8, "mildly": 0.6,
}

# Upper-case words that are names of things, not shouting.
_ACRONYMS: Final[frozenset[str]] = frozenset({
    "API", "APIS", "CSV", "JSON", "SSO", "SAML", "SCIM", "URL", "PDF", "FAQ", "HTML", "HTTP",
    "HTTPS", "REST", "SDK", "IOS", "MFA", "GDPR", "DPA", "CCPA", "SOC", "ISO", "UTC", "GMT",
    "EST", "PST", "CET", "VAT", "MSA", "SLA", "CRM", "ERP", "ETA", "EOD", "QR", "CSS", "XML",
    "DNS", "SMS", "OTP", "PIN", "VPN", "SSL", "TLS", "CLI", "AWS", "GCP", "CEO", "CTO", "CFO",
    "USA", "USD", "EUR", "GBP", "INR", "PKR", "TKT", "ZIP", "IDP", "OKTA", "JIRA", "HIPAA",
    "LGPD", "RGPD", "DSGVO", "DSAR", "VPAT", "WCAG", "NVDA", "JAWS", "AES", "HMAC", "SHA",
    "RSS", "GPS", "PNG", "JPG", "JPEG", "GIF", "DOCX", "XLSX", "UUID", "IMAP", "SMTP", "LLC",
    "INC", "LTD", "GMBH", "ACS", "IDE", "PTO", "KPI", "OKR", "ROI", "EMEA", "APAC", "NYC",
})

# Short words that are shouted, not names: "WHY is this NOT fixed".
_SHORT_SHOUTS: Final[frozenset[str]] = frozenset({
    "NOT", "NOW", "WHY", "ALL", "YOU", "THE", "AND", "FIX", "BUT", "HOW", "ANY", "GET", "OUT",
    "YET", "NO", "ME", "MY", "IS", "IT", "DO", "WTF", "OMG", "ASAP", "FOR", "ARE", "CAN",
})

# Phrases, matched on the folded text. Each names anchor words, one of which every match
# contains, and is tried only when one of them is in the message: a regex pass over a kilobyte
# costs tens of microseconds, a set lookup next to nothing, and that keeps `score` fast. A
# leading `\b` is checked in Python rather than by the regex, which lets `re` jump straight to
# the first letter instead of trying every position.
@dataclass(frozen=True)
class _Phrase:
    anchors: frozenset[str]  # words, or characters when `marks`
    pattern: re.Pattern[str]
    starts_word: bool  # the pattern began with \b
    valence: float
    most: int  # hits counted at the most
    marks: bool

    def hits(self, folded: str) -> int:
        found = 0
        for match in self.pattern.finditer(folded):
            start = match.start()
            if not self.starts_word or start == 0 or not _is_word_char(folded[start - 1]):
                found += 1
                if found == self.most:
                    break
        return found


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _phrase(anchors: str, pattern: str, valence: float, most: int = 2,
            marks: bool = False) -> _Phrase:
    starts_word = pattern.startswith(r"\b")
    return _Phrase(frozenset(anchors if marks else anchors.split()),
                   re.compile(pattern[2:] if starts_word else pattern), starts_word, valence,
                   most, marks)


_PHRASES: Final[tuple[_Phrase, ...]] = (
    # repeated contact
    _phrase("time vez fois mal",
            r"\b(?:second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|6th|\d+th|umpteenth|nth|"
            r"hundredth|millionth|tercera|troisieme|dritte|terceira|teesri)\s+(?:time|vez|fois|"
            r"mal)\b", -3.2),
    _phrase("times",
            r"\b(?:asked|emailed|e-mailed|written|wrote|called|messaged|contacted|reached out|"
            r"complained|reported|tried|chased|followed up|explained|sent)\b[^.!?\n]{0,40}?\b"
            r"(?:\d+|two|three|four|five|six|several|many|multiple|numerous|countless|so many|"
            r"a dozen|dozens of|a million)\s+times\b", -3.0),
    _phrase("many", r"\bhow many (?:more )?times\b", -2.6),
    _phrase("still",
            r"\bstill (?:no|not|nothing|none|zero|waiting|haven'?t|hasn'?t|have not|has not|"
            r"didn'?t|did not)\b[^.!?\n]{0,25}?\b(?:answer|answers|reply|replies|replied|"
            r"response|responded|respond|heard|word|update|updates|news|contact|callback|call|"
            r"back|waiting|help|fix|solution|resolution)\b", -3.0),
    _phrase("still", r"\bstill waiting\b", -2.6),
    _phrase("nobody noone one body",
            r"\b(?:nobody|no one|noone|no-one|no body)\s+(?:has |have |is |ever |even |"
            r"actually )*(?:repl(?:y|ies|ied)|answer(?:s|ed)?|respond(?:s|ed)?|got back|"
            r"gets back|gotten back|called|calls|helped|helps|cares|care|bothered|listens|"
            r"listening|read|reads|fixed|contacted|responded)\b", -3.0),
    _phrase("reply replies response responses answer answers followup follow callback word",
            r"\b(?:no|zero|never (?:got|received|had)(?: a| any)?|not (?:a|one|a single))\s+"
            r"(?:reply|response|answer|follow-?up|callback|word)s?\b(?! needed| required)", -2.4),
    _phrase("heard hear", r"\b(?:never|haven'?t|have not|hasn'?t|has not|didn'?t|did not)\s+"
            r"(?:ever )?(?:heard|hear) (?:back|anything|a thing)\b", -2.6),
    _phrase("waiting waited",
            r"\bwait(?:ing|ed)\s+(?:for\s+)?(?:over\s+|more than\s+|almost\s+)?(?:\d+|two|three|"
            r"four|five|six|several|many|a few|a couple of|weeks|days)\s*(?:days|weeks|months|"
            r"hours)?\b(?! for the (?:export|import|link))", -2.4),
    _phrase("days weeks months", r"\b(?:days|weeks|months) (?:and|with|without) (?:no|any) "
            r"(?:reply|response|answer|fix|help|solution|update)\b", -3.0),
    _phrase("time", r"\bfor the (?:last|final) time\b", -3.0),
    _phrase("again", r"\bagain and again\b", -2.0),
    _phrase("again", r"\byet again\b", -2.0),
    _phrase("again", r"\btime and again\b", -2.0),
    _phrase("over", r"\bover and over\b", -2.0),
    _phrase("single", r"\bevery single time\b", -2.0),
    _phrase("keep", r"\bkeep (?:asking|telling|emailing|writing|explaining|chasing|getting "
            r"(?:the )?same)\b", -1.6),
    _phrase("already repeatedly", r"\b(?:already|repeatedly) (?:told|explained|asked|sent|"
            r"reported|contacted|emailed)\b", -1.8),
    _phrase("ignore ignored ignoring",
            r"\bignor(?:e|ed|ing) (?:me|us|my (?:emails|messages|tickets|requests))\b", -1.5),
    # fed up, threats to leave
    _phrase("fed", r"\bfed up\b", -2.8),
    _phrase("sick", r"\bsick (?:and tired )?of\b", -2.8),
    _phrase("enough", r"\b(?:had enough|enough is enough)\b", -2.8),
    _phrase("straw", r"\blast straw\b", -2.8),
    _phrase("tang", r"\btang aa?(?:ya)? gay[ae]\b", -2.8),
    _phrase("marre", r"\ben ai marre\b", -2.8),
    _phrase("harto harta", r"\bestoy hart[oa]\b", -2.8),
    _phrase("nase", r"\bdie nase voll\b", -2.8),
    _phrase("saco", r"\bde saco cheio\b", -2.8),
    _phrase("tired", r"\btired of\b", -2.0),
    # a calm "please cancel our subscription" is an objection, not anger: kept mild
    _phrase("cancel cancelling canceling terminate terminating end ending",
            r"\b(?:cancel+(?:ing)?|terminat(?:e|ing)|end(?:ing)?)\s+(?:my|our|the)\s+"
            r"(?:subscription|account|plan|contract|membership)\b", -1.0),
    _phrase("competitor asana trello monday jira clickup notion basecamp wrike smartsheet "
            "linear else another",
            r"\b(?:switch(?:ing)?|mov(?:e|ing)|migrat(?:e|ing)|go(?:ing)?|jump(?:ing)? ship)\s+"
            r"(?:over\s+)?to\s+(?:a |another )?(?:competitor|asana|trello|monday|jira|clickup|"
            r"notion|basecamp|wrike|smartsheet|linear|someone else|another (?:tool|provider|"
            r"vendor|app|service))\b", -1.2),
    _phrase("customer customers",
            r"\b(?:won't|will not|not) be (?:a |your )?customers? (?:for )?(?:much )?"
            r"(?:longer|anymore)\b", -2.4),
    _phrase("lose losing", r"\b(?:lose|losing) (?:us|our business|a customer)\b", -2.4),
    _phrase("elsewhere", r"\b(?:take|taking) (?:my|our) (?:business|money) elsewhere\b", -2.8),
    _phrase("never", r"\bnever (?:use|using|recommend|recommending|buy|buying|trust) (?:you|"
            r"this|techcorp|your)\b", -2.6),
    _phrase("done", r"\b(?:i'?m|i am|we'?re|we are) (?:so |completely |totally )?done with\b",
            -2.6),
    _phrase("done", r"\b(?:i'?m|i am|we'?re|we are) (?:so |completely |totally |just )?done\s*"
            r"(?:[.!]|$)", -2.2),
    _phrase("review", r"\b(?:bad review|(?:leave|write|post) (?:a |an )?(?:\w+ )?review "
            r"(?:telling|about|warning))\b", -2.4),
    _phrase("star stars", r"\b(?:1|one|zero)[- ]stars?\b", -2.4),
    _phrase("warn", r"\bwarn (?:other|everyone|people)\b", -2.4),
    _phrase("bank", r"\b(?:dispute|contest|charge ?back)\b[^.!?\n]{0,30}\bwith (?:my|our|the) "
            r"(?:bank|card)", -1.8),
    _phrase("business", r"\b(?:no|had no|have no) business (?:taking|charging|doing)\b", -1.8),
    _phrase("straight", r"\bstraight answer\b", -1.8),
    _phrase("canned copy pasted paste generic scripted template templated",
            r"\b(?:canned|copy-?pasted?|generic|scripted|template[d]?) (?:reply|replies|"
            r"response|responses|answer|answers|list|email|emails)\b", -1.8),
    _phrase("chasing", r"\bchasing (?:you|your|this|them)\b", -1.8),
    # despair
    _phrase("begging beg", r"\b(?:begging|beg you)\b", -3.0),
    _phrase("losing", r"\blosing (?:money|clients|customers|business|revenue|my job|our|sleep)\b",
            -2.6),
    _phrase("asap urgently immediately",
            r"\bplease+\s+(?:help|fix)[^.!?\n]{0,20}(?:asap|urgently|immediately|right now)\b",
            -1.2),
    _phrase("line", r"\bon the line\b", -2.2),
    _phrase("stake", r"\bat stake\b", -2.2),
    _phrase("business", r"\bout of business\b", -2.2),
    _phrase("lose", r"\b(?:about|going) to lose\b", -2.2),
    _phrase("can't cannot can",
            r"\b(?:can'?t|cannot|can not) (?:do|take|handle|deal with) (?:this|it)(?: any ?more)?"
            r"\b", -2.2),
    _phrase("wit wit's wits", r"\bat (?:my|our) wit'?s'? end\b", -2.2),
    _phrase("know", r"\b(?:don'?t|do not) know what (?:else )?to do\b", -2.2),
    _phrase("job", r"\b(?:lose|losing) my job\b", -2.2),
    _phrase("blame blames blaming", r"\b(?:blames?|blaming) me\b", -2.2),
    _phrase("awake", r"\bawake since \d", -2.2),
    _phrase("slept", r"\bhaven'?t slept\b", -2.2),
    _phrase("night", r"\bup all night\b", -2.2),
    # losing work is distress, however calmly it is put
    _phrase("gone wiped erased vanished",
            r"\b(?:is|are|was|were|has|have) (?:all |been |just )*(?:gone|wiped|erased|"
            r"vanished)\b", -1.6),
    _phrase("lost lose", r"\b(?:lost|lose) (?:everything|all (?:of )?(?:my|our))\b", -1.6),
    _phrase("years months", r"\b(?:\d+|two|three|four|five|many|several) (?:years|months) of "
            r"(?:work|data|history)\b", -1.6),
    # sarcasm and scorn
    _phrase("nothing", r"\bthanks? (?:a lot |so much )?for nothing\b", -3.6),
    _phrase("great wonderful perfect fantastic brilliant",
            r"\b(?:oh|just) (?:great|wonderful|perfect|fantastic|brilliant)\b", -3.6),
    _phrase("great", r"\bgreat,?\s+(?:just\s+)?(?:another|again|now)\b", -3.6),
    _phrase("yeah ya", r"\b(?:yeah|ya) right\b", -1.8),
    _phrase("joke surprise shock mess", r"\bwhat a (?:joke|surprise|shock|mess)\b", -2.6),
    _phrase("joke scam clown circus",
            r"\b(?:this|that|it|you|your (?:support|service|company|product|app))(?: i|'|\s)s "
            r"(?:a )?(?:joke|scam|clown show|circus)\b", -2.2),
    _phrase("even actually", r"\b(?:do|did) (?:you|u) (?:even|actually) (?:read|test|care|"
            r"listen)\b", -2.6),
    _phrase("hell heck", r"\bwhat the (?:hell|heck)\b", -2.8),
    _phrase("kidding serious joking", r"\b(?:are you (?:kidding|serious|joking)|you'?ve got to "
            r"be kidding|you can'?t be serious)\b", -2.8),
    # profanity, also masked ("f***", "sh*t", "b*tch") and abbreviated ("wtf")
    _phrase("fuck fucking fucked fucker fuckers fucks fuckin fck fcking fckin fuk fuking fukin "
            "fuq phuck motherfucker motherfuckers motherfucking wtf stfu gtfo shit shitty shite "
            "shits sh1t bullshit bullshitting asshole assholes arsehole arseholes bitch bitches "
            "bitching bastard bastards dickhead dickheads prick mierda joder pendejo pendejos "
            "cabron cabrones merde putain connard connards scheisse scheiss scheissladen "
            "arschloch porra caralho merda chutiya bhenchod madarchod bsdk",
            r"\b(?:f+u+c+k+\w*|fck\w*|fuk\w*|fuq\w*|phuck\w*|motherf\w*|wtf|stfu|gtfo|sh[i1]t\w*|"
            r"bull\s?sh\w*|asshole\w*|arsehole\w*|bitch\w*|bastard\w*|dickhead\w*|prick|"
            r"mierda|joder|pendej\w*|cabron\w*|merde|putain|connard\w*|scheisse|scheiss\w*|"
            r"arschloch|porra|caralho|merda|chutiya|bhenchod|madarchod|bsdk)\b", -3.0, most=3),
    _phrase("*#@$%",
            r"(?<![\w@.])(?:f[*#@$%!]{1,3}(?:c?k)?(?:ing|in|er|ers|ed)?|s[h]?[*#@$%!]{1,2}t\w*|"
            r"b[*#@$%!]+tch\w*|a[*#@$%!]{2}(?:hole)?s?|d[*#@$%!]mn\w*|cr[*#@$%!]p\w*)(?![\w@])|"
            r"[@#$%&*!]*([@#$%&])[@#$%&*!]*(?!\1)[@#$%&][@#$%&*!]*", -3.0, most=3, marks=True),
    _phrase("damn damned damnit dammit goddamn goddamnit crap crappy ffs wth omfg bloody effing "
            "freaking frigging friggin screw hell piss pissed pissing sucky",
            r"\b(?:damn\w*|dammit|goddamn\w*|crap\w*|ffs|wth|omfg|bloody|effing|freaking|"
            r"frigging|friggin|screw (?:you|this|it|up)|hell (?:no|is|was)|the hell|piss\w*|"
            r"sucky)\b", -1.6),
)
# anchor word -> positions in _PHRASES of the phrases it anchors
_BY_ANCHOR: Final[dict[str, tuple[int, ...]]] = {
    word: tuple(i for i, p in enumerate(_PHRASES) if not p.marks and word in p.anchors)
    for word in {w for p in _PHRASES if not p.marks for w in p.anchors}
}
_MARKED: Final = tuple(i for i, p in enumerate(_PHRASES) if p.marks)

_WORD: Final = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
_CAPS_RUN: Final = re.compile(r"[A-Z]{2,}")
_EXCLAIM_RUN: Final = re.compile(r"[!?]{2,}")
_EMOJI: Final[dict[str, float]] = {
    ":)": 1.5, ":-)": 1.5, ":d": 2.0, "🙂": 1.5, "😀": 2.0, "😊": 2.0, "😃": 2.0, "😄": 2.0,
    "❤": 2.5, "👍": 1.5, "🙏": 1.0, "🎉": 2.0, "😍": 2.5, "🥰": 2.5, ":(": -1.5, ":-(": -1.5,
    "😡": -3.0, "🤬": -3.5, "😠": -3.0, "😤": -2.5, "😢": -2.0, "😭": -2.4, "👎": -2.0,
    "😞": -1.8, "😒": -1.6, "🙄": -1.8, "💩": -2.5,
}
_EMOTICONS: Final = tuple((e, v) for e, v in _EMOJI.items() if e.isascii())
_SCORED: Final = frozenset(_LEXICON) | _PROBLEM_WORDS | _FAULT_IF_NEGATED
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
        negated = any(w in _NEGATORS or w.endswith("n't") for w in window)
        if word in _FAULT_IF_NEGATED:
            fault += _PROBLEM_VALENCE if negated else 0.0
            continue
        following = words[i + 1] if i + 1 < len(words) else ""
        if _is_modifier(word, following):
            continue
        is_fault = word in _PROBLEM_WORDS
        valence = _PROBLEM_VALENCE if is_fault else _LEXICON[word]
        for prior in window[-2:]:
            valence *= _INTENSIFIERS.get(prior, 1.0)
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
    return word in _INTENSIFIERS and (following in _LEXICON or following in _PROBLEM_WORDS)


def _shouted(text: str) -> set[str]:
    """Return the distinct words written in capitals that are not acronyms."""
    shouted = set()
    for match in _CAPS_RUN.finditer(text):
        word, start, end = match.group(0), match.start(), match.end()
        if (start and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha()):
            continue
        if word not in _ACRONYMS and (len(word) >= 4 or word in _SHORT_SHOUTS):
            shouted.add(word)
    return shouted


def _phrases_in(folded: str, words: Sequence[str]) -> list[_Phrase]:
    """Return the phrases whose anchors the message contains, in a fixed order."""
    chosen = {i for word in _BY_ANCHOR.keys() & set(words) for i in _BY_ANCHOR[word]}
    chosen.update(i for i in _MARKED if any(mark in folded for mark in _PHRASES[i].anchors))
    return [_PHRASES[i] for i in sorted(chosen)]


def score(text: str) -> float:
    """Return the message's sentiment in [0, 1]: below 0.3 clearly negative, above 0.7 positive."""
    folded = fold(text)
    words = _WORD.findall(folded)
    emoji = [(e, v) for e, v in (_EMOTICONS if folded.isascii() else _EMOJI.items())
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
