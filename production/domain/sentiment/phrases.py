"""Phrases that carry sentiment beyond their words: repeated contact, threats to leave,
despair, sarcasm and profanity (also masked), each with its valence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from production.domain import competitors


# Phrases, matched on the folded text. Each names anchor words, one of which every match
# contains, and is tried only when one of them is in the message: a regex pass over a kilobyte
# costs tens of microseconds, a set lookup next to nothing, and that keeps `score` fast. A
# leading `\b` is checked in Python rather than by the regex, which lets `re` jump straight to
# the first letter instead of trying every position.
@dataclass(frozen=True)
class Phrase:
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
             marks: bool = False) -> Phrase:
    starts_word = pattern.startswith(r"\b")
    return Phrase(frozenset(anchors if marks else anchors.split()),
                  re.compile(pattern[2:] if starts_word else pattern), starts_word, valence,
                  most, marks)


PHRASES: Final[tuple[Phrase, ...]] = (
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
    _phrase(" ".join(sorted(competitors.ANCHORS | {"else"})),
            r"\b(?:switch(?:ing)?|mov(?:e|ing)|migrat(?:e|ing)|go(?:ing)?|jump(?:ing)? ship)\s+"
            rf"(?:over\s+)?to\s+(?:(?:a |another )?(?:competitor|someone else)|"
            rf"{competitors.COMPETITOR})\b", -1.2),
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
# anchor word -> positions in PHRASES of the phrases it anchors
BY_ANCHOR: Final[dict[str, tuple[int, ...]]] = {
    word: tuple(i for i, p in enumerate(PHRASES) if not p.marks and word in p.anchors)
    for word in {w for p in PHRASES if not p.marks for w in p.anchors}
}
MARKED: Final = tuple(i for i, p in enumerate(PHRASES) if p.marks)
