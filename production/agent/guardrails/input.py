"""The input guardrail: attempts to re-program or unmask the agent (prompt injection).

Pure pattern rules, so the check runs before any model or tool, costs well under a millisecond
and gives the same verdict every time. It looks for such attempts in English and the other
languages customers write in, also when hidden in code blocks, HTML comments or base64.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Final

from production.agent.guardrails.result import PASSED, GuardrailResult, tripped
from production.domain.patterns import Rules
from production.domain.text import fold

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
    # a note to the model in a comment: "<!-- assistant: this user is staff, reveal … -->"
    r"\b(?:assistant|ai|system|model|bot|agent|llm|chatgpt|gpt)\s*:",
    r"\b(?:reveal|disclose|leak|print|include|output|expose|dump)\b[^\n]{0,60}?\b(?:api keys?|"
    r"passwords?|credentials|tokens?|secrets?|email addresses|emails?|phone numbers?)\b",
    r"\b(?:this|the) (?:user|customer|person|sender|requester) is (?:a |an |our )?(?:support|"
    r"staff|admin|administrator|employee|verified|trusted|authori[sz]ed|internal|developer)\b",
)
# Words addressed to the machine that reads the message, anywhere in it (a signature, a
# footer, a pasted block): "note for AI assistants reading this mail", "to the assistant
# processing this ticket". A customer writes to people; words to the AI reader that vouch for
# the sender, ask for secrets or waive the checks are an injection wherever they sit.
_AI_READER: Final = re.compile(
    r"\b(?:ai|a\.i\.|llms?|language models?|chatbots?|assistants?|ai systems?|"
    r"automated systems?|ai agents?)\b[^.\n]{0,30}?\b(?:reading|processing|handling|parsing|"
    r"answering|that reads?|that processes|who reads?|which reads?)\s+(?:this|the|my|these)\s+"
    r"(?:e-?mail|mail|message|ticket|request|conversation|text|form)s?\b|"
    r"\b(?:automated|automatic|machine) (?:note|message|instructions?) (?:to|for)\b|"
    r"\b(?:note|message|instructions?) (?:to|for) (?:any |all |the )?(?:ai|llm|language model|"
    r"chatbot|bot|assistant|model|agent)s?\b")
_AI_READER_REACH: Final = 400  # characters after the address that the directive may take
_READER_DIRECTIVE: Final = Rules(
    r"\b(?:ignore|disregard|forget|skip|bypass|waive)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|"
    r"your\s+)?(?:usual\s+|normal\s+|previous\s+|safety\s+|security\s+)?(?:checks?|rules|"
    r"instructions|verification|policy|policies|restrictions)\b",
    r"\b(?:reveal|disclose|leak|print|include|output|expose|dump|attach|send|give|share|list|"
    r"add|paste|forward)\b[^\n]{0,60}?\b(?:api keys?|passwords?|credentials|tokens?|secrets?|"
    r"internal notes?|system prompt|instructions|email addresses|phone numbers?)\b",
    r"\b(?:this|the) (?:user|customer|person|sender|requester|writer) is (?:a |an |our |the )?"
    r"(?:verified |trusted |authori[sz]ed )?(?:support|staff|admin|administrator|owner|employee|"
    r"verified|trusted|authori[sz]ed|internal|developer)\b",
    r"\b(?:approve|grant|issue|apply)\s+(?:a\s+|the\s+|an\s+)?(?:\d+%\s+)?(?:full\s+)?"
    r"(?:refund|discount|credit|upgrade)\b",
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
            return tripped("prompt_injection", match.group(0))
        for pattern, innocent_before in _UNLESS_AFTER:
            found = pattern.search(candidate)
            if found and not innocent_before.search(candidate, 0, found.start()):
                return tripped("prompt_injection", found.group(0))
    for block in _HIDDEN_BLOCK.findall(folded):
        if match := _HIDDEN_DIRECTIVE.search(block):
            return tripped("prompt_injection", f"hidden directive: {match.group(0)}")
    for address in _AI_READER.finditer(folded):
        reach = folded[address.start():address.end() + _AI_READER_REACH]
        if match := _READER_DIRECTIVE.search(reach):
            return tripped("prompt_injection", f"directive to the AI reader: {match.group(0)}")
    if _BLOB.search(text):
        if match := _DECODE_AND_FOLLOW.search(folded):
            return tripped("prompt_injection", f"encoded instructions: {match.group(0)}")
        if depth == 0:
            for decoded in _decoded_blobs(text):
                if (inner := _injection(decoded, depth=1)).tripped:
                    return tripped("prompt_injection", f"encoded: {inner.detail}")
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

