"""The part of a customer's message a knowledge-base search should read.

Greetings ("Hi team,"), sign-offs ("Thanks, Maria", "Best regards") and a name alone on its
line say nothing about the question, yet they take a share of the embedding and, in a long
email, push the question itself past the first search's 500 characters.
"""

from __future__ import annotations

import re
from typing import Final

# A line that is only a greeting or a sign-off (with at most a short name after it).
_COURTESY: Final = re.compile(
    r"^\s*(?:hi|hello|hey|dear|hallo|hola|bonjour|ola|olá|oi|ciao|salut|guten tag|"
    r"buenos d[ií]as|buenas tardes|boa tarde|bom dia|good (?:morning|afternoon|evening)|"
    r"thanks|thank you|many thanks|thanks in advance|cheers|best|regards|kind regards|"
    r"best regards|warm regards|all the best|sincerely|yours(?: sincerely| faithfully)?|"
    r"grazie|gracias|merci|danke|obrigad[oa]|saludos|cordialement|viele gr[üu](?:ß|ss)e|"
    r"mit freundlichen gr[üu](?:ß|ss)en|atenciosamente|abra[çc]os|un saludo)\b"
    r"[\s,.!:;-]*(?:\w+[\s,.!-]*){0,3}$",
    re.IGNORECASE)
# A name or a role alone on a line, e.g. the signature's "Maria" or "Chris Abara, SecOps".
_NAME_LINE: Final = re.compile(
    r"^\s*[A-ZÀ-Ý][\w'.-]*(?:\s+[A-ZÀ-Ý][\w'.-]*){0,2}(?:,\s*[\w &/-]+)?\s*$")


def search_text(words: str) -> str:
    """Return the message without its greeting, sign-off and signature-name lines (the whole
    message when nothing else would be left)."""
    kept = [line for line in words.splitlines()
            if line.strip() and not _COURTESY.match(line) and not _NAME_LINE.match(line)]
    return "\n".join(kept) if kept else words
