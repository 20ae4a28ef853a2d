"""A closing: the customer says thank you or that the answer worked, and asks nothing more.

Such a message needs no search and no person: it gets a short courteous reply in the channel's
voice and its ticket is resolved, a resolution the customer confirmed. It is a closing only if
it is short, thanks us or confirms success, and holds no question, no new problem and no "but";
anything that needs a person (the escalation rules, negative sentiment) is decided before this
and wins. English, German, Spanish, French and Portuguese.
"""

from __future__ import annotations

import re
from typing import Final

from production.domain.text import fold

# Longer than this (after greeting and signature lines) is a message with something to say.
MAX_WORDS: Final = 40

_THANKS: Final = re.compile(
    r"\b(?:thanks?|thank you|thx|ty|tysm|cheers|much appreciated|appreciate (?:it|that|the "
    r"help|your help)|works? now|working now|(?:that|it|this) (?:worked|works|did it|did the "
    r"trick|helped|fixed it|answers (?:it|everything|my question))|all (?:good|sorted|set|"
    r"working)|sorted|solved|fixed|resolved|perfect|great|awesome|brilliant|got it|"
    r"case closed|you can close|please close|problem solved|issue resolved|"
    r"danke\w*|vielen dank|besten dank|hat (?:geklappt|funktioniert)|funktioniert (?:jetzt|"
    r"wieder)|alles klar|erledigt|super|"
    r"gracias|muchas gracias|ya funciona|funciona(?:ndo)? (?:ya|ahora|bien)|resuelto|listo|"
    r"genial|perfecto|"
    r"merci|ca (?:marche|fonctionne)|c'est bon|c'est regle|parfait|resolu|nickel|"
    r"obrigad[oa]|valeu|deu certo|funcionou|resolvido|perfeito)\b")
# Something still wrong, a new request, or a question: not a closing.
_MORE: Final = re.compile(
    r"\?|\b(?:but|however|although|though|still|again|another|also|except|unless|issue|"
    r"problem|error|broken|fails?|failed|failing|wrong|not|no longer|can't|cannot|can not|"
    r"reject\w*|refus\w*|denied|blocked|crash\w*|stuck|missing|lost|locked|disappear\w*|"
    r"keeps|every (?:single )?time|"
    # French "merci de + infinitive" is "please …", a request, not thanks
    r"merci de (?:bien vouloir |(?:me|nous|m'|le|la|les|lui|leur) )?(?!votre\b|vos\b|tout\b)"
    r"[a-z]+(?:er|ir|re|oir)|"
    r"doesn't|don't|didn't|won't|isn't|wasn't|how|what|why|where|when|which|could you|can you|"
    r"would you|please (?!close)|for nothing|need|want|would like|i'd like|we'd like|looking for|"
    r"help me|request|send|is there|do i|bitte|brauche|mochte|necesito|quiero|quisiera|"
    r"por favor|besoin|voudrais|veux|s'il vous plait|preciso|quero|gostaria|"
    r"aber|noch|trotzdem|nicht|kein|wie|warum|pero|todavia|aun|sigue|no|como|por que|mais|"
    r"encore|toujours|pas|comment|pourquoi|mas|ainda|nao|porque)\b")
_GREETING_OR_SIGNATURE: Final = re.compile(
    r"^(?:hi|hello|hey|dear|hallo|hola|bonjour|ola|oi|guten tag|buenos dias|boa tarde|bom dia|"
    r"best|regards|kind regards|best regards|many thanks|cheers|thanks|thank you|viele gruße|"
    r"viele grusse|saludos|cordialement|abracos|atenciosamente)\b[^\n]{0,30}$|^[^\s,]+,?$")


def is_closing(text: str) -> bool:
    """Return whether the message only thanks us or confirms that it works now."""
    folded = fold(text)
    body = [line.strip() for line in folded.splitlines() if line.strip()]
    core = " ".join(line for line in body if not _GREETING_OR_SIGNATURE.match(line))
    words = (core or " ".join(body)).split()
    return (0 < len(words) <= MAX_WORDS and _THANKS.search(folded) is not None
            and _MORE.search(core or folded) is None)
