"""Email as the support mailbox sees it: parse a raw RFC 5322 message, keep only what the
customer wrote (its body: email_body.py), recognise mail that must never be answered, and
compose a threaded reply.

Pure: bytes and strings in, values out. The Gmail adapter fetches the bytes (`format=raw`) and
sends what `compose_reply` builds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import format_datetime, formataddr, getaddresses, parseaddr

from production.domain.email_body import body_text, clean_body, decode_text

# What an inbound message may be at most, as stored (InboundMessage.content allows 20,000).
MAX_CONTENT = 20_000
# A long thread's References header keeps its first id and the most recent ones (RFC 5322 §3.6.4
# allows trimming; the first id anchors the thread).
MAX_REFERENCES = 20

_MSG_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class ParsedEmail:
    """The parts of an inbound email the support flow uses."""

    sender_email: str | None
    sender_name: str | None
    subject: str | None
    message_id: str | None  # the RFC 5322 Message-ID, with its angle brackets
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str  # the whole text body (plain, or HTML converted), quotes and signature included
    content_type: str
    report_type: str | None  # multipart/report's report-type parameter
    has_delivery_status: bool  # a message/delivery-status part anywhere
    headers: dict[str, str]  # lower-cased name -> first value, for the loop checks

    @property
    def content(self) -> str:
        """Return what the customer wrote now: no quoted thread, no signature."""
        return clean_body(self.text)


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse a raw message (headers decoded, body decoded by transfer encoding and charset)."""
    msg = message_from_bytes(raw, policy=policy.default)
    name, address = _sender(msg)
    refs = tuple(_MSG_ID.findall(_header(msg, "References") or ""))
    message_id = _first_id(_header(msg, "Message-ID"))
    return ParsedEmail(
        sender_email=address,
        sender_name=name,
        subject=_header(msg, "Subject"),
        message_id=message_id,
        in_reply_to=_first_id(_header(msg, "In-Reply-To")),
        references=refs,
        text=body_text(msg),
        content_type=msg.get_content_type(),
        report_type=_report_type(msg),
        has_delivery_status=any(part.get_content_type() in _DSN_TYPES for part in msg.walk()),
        headers={key.lower(): _header(msg, key) or "" for key in _LOOP_HEADERS
                 if msg.get(key) is not None},
    )


_DSN_TYPES = {"message/delivery-status", "message/global-delivery-status"}
_LOOP_HEADERS = ("Auto-Submitted", "X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress",
                 "Precedence", "X-Precedence", "Return-Path")


def _report_type(msg: Message) -> str | None:
    value = msg.get_param("report-type", header="content-type")
    return str(value).lower() if isinstance(value, str) else None


def _header(msg: Message, name: str) -> str | None:
    """Return a header's decoded value (RFC 2047 words decoded, folding removed), or None."""
    raw = next((value for key, value in msg.raw_items() if key.lower() == name.lower()), None)
    if raw is None:
        return None
    if _has_raw_8bit(str(raw)):
        # Unencoded 8-bit bytes (against RFC 5322, but common): the structured parser would
        # turn them into U+FFFD, so decode them here, then any encoded words.
        text = _decode_words(decode_text(str(raw).encode("utf-8", "surrogateescape"), None))
    else:
        try:
            text = str(msg.get(name))
        except (ValueError, IndexError, TypeError, AttributeError):
            text = _decode_words(str(raw))  # a header the structured parser trips on
    text = " ".join(text.replace("\x00", "").split())
    return text or None


def _has_raw_8bit(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def _decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words; whitespace between two adjacent words goes."""
    text = re.sub(r"(?<=\?=)\s+(?==\?)", "", text)

    def one(match: re.Match[str]) -> str:
        try:
            return str(make_header(decode_header(match.group(0))))
        except (LookupError, ValueError, UnicodeDecodeError):
            return match.group(0)

    return _ENCODED_WORD.sub(one, text)


def _first_id(value: str | None) -> str | None:
    if not value:
        return None
    found = _MSG_ID.search(value)
    return found.group(0) if found else None


def _sender(msg: Message) -> tuple[str | None, str | None]:
    raw = _header(msg, "From")
    if raw is None:
        return None, None
    pairs = getaddresses([raw])
    name, address = pairs[0] if pairs else parseaddr(raw)
    address = address.strip()
    if "@" not in address:
        return (name.strip() or None), None
    return (name.strip().strip('"') or None), address


# ---------------------------------------------------------------------------------------------
# Mail that must not be answered


_AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|"
    r"abwesenheitsnotiz|réponse automatique|respuesta automática|"
    r"undeliverable|undelivered mail|delivery status notification|mail delivery failed|"
    r"delivery failure|returned mail|failure notice)\b", re.IGNORECASE)
_BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}


def skip_reason(mail: ParsedEmail, *, own_addresses: tuple[str, ...]) -> str | None:
    """Return why this mail must not be answered (a loop risk), or None to answer it."""
    sender = (mail.sender_email or "").lower()
    if sender and sender in {a.lower() for a in own_addresses}:
        return "own_mail"
    if is_bounce(mail):
        return "bounce"
    if is_auto_reply(mail):
        return "auto_reply"
    return None


def is_bounce(mail: ParsedEmail) -> bool:
    """A delivery status notification: from the mailer daemon, or a delivery-status report."""
    local = (mail.sender_email or "").split("@")[0].lower()
    return (local in _BOUNCE_SENDERS or mail.report_type == "delivery-status"
            or mail.has_delivery_status)


def is_auto_reply(mail: ParsedEmail) -> bool:
    """An automatic answer (RFC 3834 and the common vendor headers) or bulk mail."""
    headers = mail.headers
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and not auto.startswith("no"):
        return True
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return True
    precedence = (headers.get("precedence") or headers.get("x-precedence") or "").lower()
    if precedence.strip() in ("bulk", "junk", "list", "auto_reply"):
        return True
    if headers.get("return-path", "").strip() == "<>":  # RFC 3834: auto-responses use null
        return True
    return bool(mail.subject and _AUTO_SUBJECT.match(mail.subject))


# ---------------------------------------------------------------------------------------------
# Replies


_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|vs)(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def reply_subject(subject: str | None) -> str:
    """Return "Re: <subject>", never "Re: Re: ..." (Gmail threads a reply only when its
    subject matches the original's, so an empty subject stays empty: "Re:")."""
    base = _REPLY_PREFIX.sub("", " ".join((subject or "").split()))
    return f"Re: {base}" if base else "Re:"


def references_chain(references: str | list[str] | tuple[str, ...] | None,
                     message_id: str | None) -> str | None:
    """Return the References header of a reply: theirs, then the message replied to."""
    if isinstance(references, str):
        ids = _MSG_ID.findall(references)
    else:
        ids = [i for ref in references or () for i in _MSG_ID.findall(ref)]
    if message_id and (found := _first_id(message_id)):
        ids = [i for i in ids if i != found] + [found]
    seen: list[str] = []
    for item in ids:
        if item not in seen:
            seen.append(item)
    if len(seen) > MAX_REFERENCES:
        seen = [seen[0], *seen[-(MAX_REFERENCES - 1):]]
    return " ".join(seen) or None


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def compose_reply(*, from_address: str, to_address: str, to_name: str | None, subject: str,
                  body: str, in_reply_to: str | None, references: str | None,
                  message_id: str, sent_at: datetime | None = None) -> bytes:
    """Return the RFC 5322 bytes of a plain-text reply, threaded by In-Reply-To/References."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = from_address
    msg["To"] = formataddr((_one_line(to_name), _one_line(to_address))) if to_name \
        else _one_line(to_address)
    msg["Subject"] = _one_line(subject)
    msg["Date"] = format_datetime(sent_at or datetime.now(UTC))
    msg["Message-ID"] = message_id
    if in_reply_to and (parent := _first_id(in_reply_to)):
        msg["In-Reply-To"] = parent
    if references:
        msg["References"] = references
    msg.set_content(body.replace("\r\n", "\n"), charset="utf-8")
    return msg.as_bytes()
