"""WhatsApp over Twilio, the pure part: the webhook form as an InboundMessage, messages with
nothing to read, a burst of messages as one turn's text, and the order delivery statuses take."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from production.domain.identity import normalize_phone
from production.domain.messages import InboundMessage

ADDRESS_PREFIX = "whatsapp:"
# Twilio sends at most ten attachments (MediaUrl0..MediaUrl9) with one message.
MAX_MEDIA = 10
# What a customer who sent only attachments (or a location, a sticker...) is told.
MEDIA_ONLY_REPLY = "Thanks! I can only read text here — could you type your question?"
# The longest text one agent run is given for a turn (the newest messages are kept).
MAX_TURN_TEXT = 20_000

# Twilio's message statuses in the order they happen. A status callback never moves a message
# backwards: callbacks arrive out of order and are retried. A failure outranks everything, since
# a reply with a failed part did not fully reach the customer.
_STATUS_RANK = {
    "accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4,
    "read": 5, "undelivered": 6, "failed": 6, "canceled": 6,
}
KNOWN_STATUSES = frozenset(_STATUS_RANK)

_LONG_NUMBER = re.compile(r"\+?\d[\d ()-]{6,}\d")


class InvalidTwilioRequest(ValueError):
    """The webhook body is not what Twilio sends; the message says why."""


@dataclass(frozen=True)
class StatusUpdate:
    sid: str
    status: str
    error_code: str | None


def parse_inbound(form: Mapping[str, str], *, tenant_id: str,
                  received_at: datetime | None = None) -> InboundMessage:
    """Return the customer message a Twilio WhatsApp webhook carries.

    Raises InvalidTwilioRequest when the form lacks a MessageSid or a valid WhatsApp sender.
    Media URLs are not kept (they embed access to the file); their content types are.
    """
    sid = form.get("MessageSid", "").strip()
    if not sid:
        raise InvalidTwilioRequest("MessageSid is required")
    sender = form.get("From", "").strip()
    if not sender:
        raise InvalidTwilioRequest("From is required")
    if not sender.lower().startswith(ADDRESS_PREFIX):
        raise InvalidTwilioRequest("From must be a WhatsApp address (whatsapp:+<number>)")
    phone = normalize_phone(sender)
    if phone is None:
        raise InvalidTwilioRequest("From is not a valid phone number")
    media_types = _media_types(form)
    text = form.get("Body", "").strip()
    metadata: dict[str, Any] = {
        "twilio_message_sid": sid,
        "to": _strip_prefix(form.get("To", "")) or None,
        "num_media": len(media_types),
        "media_content_types": media_types,
    }
    if (wa_id := form.get("WaId", "").strip()).isdigit():
        metadata["wa_id"] = wa_id
    if not text:
        metadata["media_only"] = True
        text = describe_attachments(media_types, location="Latitude" in form)
    name = form.get("ProfileName", "").strip() or None
    fields: dict[str, Any] = {} if received_at is None else {"received_at": received_at}
    try:
        return InboundMessage(tenant_id=tenant_id, channel="whatsapp", external_id=sid,
                              content=text, sender_name=name, sender_phone=phone,
                              metadata=metadata, **fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = {"content": "Body", "external_id": "MessageSid"}.get(str(error["loc"][0]),
                                                                      str(error["loc"][0]))
        raise InvalidTwilioRequest(f"{where}: {error['msg']}") from exc


def _media_types(form: Mapping[str, str]) -> list[str]:
    raw = form.get("NumMedia", "").strip() or "0"
    if not raw.isdigit() or int(raw) > MAX_MEDIA:
        raise InvalidTwilioRequest(f"NumMedia must be a whole number from 0 to {MAX_MEDIA}")
    return [form.get(f"MediaContentType{i}", "").strip() or "application/octet-stream"
            for i in range(int(raw))]


def _strip_prefix(address: str) -> str:
    value = address.strip()
    return value[len(ADDRESS_PREFIX):] if value.lower().startswith(ADDRESS_PREFIX) else value


def describe_attachments(media_types: Sequence[str], *, location: bool = False) -> str:
    """Return the stored text of a message without text: what it carried, in brackets."""
    if media_types:
        noun = "attachment" if len(media_types) == 1 else "attachments"
        return f"[{len(media_types)} {noun}: {', '.join(media_types)}]"
    return "[a shared location]" if location else "[a message without text]"


def is_from_twilio(metadata: Mapping[str, Any]) -> bool:
    """True for a message that came through the Twilio webhook (not `fte ask` or a test)."""
    return bool(metadata.get("twilio_message_sid"))


def has_text(metadata: Mapping[str, Any]) -> bool:
    return not metadata.get("media_only")


def turn_text(messages: Sequence[tuple[str, Mapping[str, Any]]]) -> str | None:
    """Return the text of one turn (content and metadata of its messages, oldest first).

    Messages without text are left out; None when no message of the turn has text.
    """
    texts = [content.strip() for content, metadata in messages if has_text(metadata)]
    joined = "\n".join(text for text in texts if text)
    return joined[-MAX_TURN_TEXT:] or None


def parse_status(form: Mapping[str, str]) -> StatusUpdate:
    """Return the delivery status a Twilio status callback reports."""
    sid = form.get("MessageSid", "").strip()
    status = form.get("MessageStatus", "").strip().lower()
    if not sid:
        raise InvalidTwilioRequest("MessageSid is required")
    if not status:
        raise InvalidTwilioRequest("MessageStatus is required")
    return StatusUpdate(sid=sid, status=status, error_code=form.get("ErrorCode", "").strip()
                        or None)


def status_advances(current: str | None, new: str) -> bool:
    """True when `new` moves a message's delivery status forward from `current`.

    An unknown current status (none yet, "sandboxed") is behind every known one; an unknown
    new status never advances.
    """
    if new not in _STATUS_RANK:
        return False
    return _STATUS_RANK[new] > _STATUS_RANK.get(current or "", -1)


def redact_numbers(text: str) -> str:
    """Return the text with phone numbers masked (Twilio error messages quote them)."""
    return _LONG_NUMBER.sub("[number]", text)
