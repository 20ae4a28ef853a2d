"""Channel voice: shape a reply for email, WhatsApp or the web form within its hard limits."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class ChannelStyle:
    channel: str
    tone: str
    max_length: int
    length_unit: str  # "words" or "chars"
    split_at: int | None = None
    greeting: str | None = None
    signature: str | None = None


def measure(text: str, unit: str) -> int:
    return len(text.split()) if unit == "words" else len(text)


def fit(text: str, limit: int, unit: str) -> str:
    """Return the text cut at a sentence (or word) boundary so it measures at most `limit`."""
    if measure(text, unit) <= limit:
        return text
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}".strip()
        if measure(candidate, unit) > limit:
            break
        kept = candidate
    if kept:
        return kept
    words = text.split()
    if unit == "words":
        return " ".join(words[:limit])
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > limit:
            break
        out = f"{out} {word}".strip()
    return out or text[:limit]


def split_message(text: str, size: int) -> list[str]:
    """Return parts of at most `size` characters, split at sentence boundaries when possible."""
    parts: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        for piece in [sentence] if len(sentence) <= size else _hard_wrap(sentence, size):
            candidate = f"{current} {piece}".strip()
            if len(candidate) > size:
                parts.append(current)
                current = piece
            else:
                current = candidate
    if current:
        parts.append(current)
    return parts


def _hard_wrap(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def format_reply(body: str, style: ChannelStyle, *, name: str | None, ticket: str | None,
                 reserve: int = 0) -> str:
    """Return the reply with the channel's greeting and signature, within the channel's limit
    less `reserve` (what is added when it leaves: see `link_room`)."""
    who = (name or "there").split()[0] if name else "there"
    greeting = (style.greeting or "").format(name=who, ticket=ticket or "")
    signature = (style.signature or "").replace("\\n", "\n").format(name=who, ticket=ticket or "")
    budget = style.max_length - reserve - measure(greeting, style.length_unit) - measure(
        signature, style.length_unit
    )
    if style.length_unit == "chars":
        budget -= 4  # the blank lines between the parts
    body = fit(body.strip(), max(budget, 1), style.length_unit)
    return "\n\n".join(part for part in (greeting, body, signature) if part)


# The line that takes an email or WhatsApp customer to their ticket's status page. It is added
# when the reply leaves (the link carries the ticket's access token, which is never stored);
# a web form reply is read on that page already.
_STATUS_LINK = {
    "email": "Follow this request and our replies online: {url}",
    "whatsapp": "Your ticket, online: {url}",
}


def with_status_link(text: str, channel: str, url: str) -> str:
    """Return the reply with the link to its ticket's status page, on channels that carry one."""
    line = _STATUS_LINK.get(channel)
    return f"{text}\n\n{line.format(url=url)}" if line else text


def link_room(style: ChannelStyle, url: str) -> int:
    """Return what the status link line, with the blank line before it, takes of the channel's
    limit (0 on a channel without one), so that the reply with it still fits."""
    line = _STATUS_LINK.get(style.channel)
    if line is None:
        return 0
    spacer = 2 if style.length_unit == "chars" else 0
    return measure(line.format(url=url), style.length_unit) + spacer


def carries_status_link(channel: str) -> bool:
    """Return True for the channels whose replies link to the ticket's status page."""
    return channel in _STATUS_LINK
