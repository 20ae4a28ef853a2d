"""A Gmail Pub/Sub push, read: the mailbox and the history id it says changed.

Pub/Sub wraps Gmail's notification in an envelope (`message.data`: base64 of a JSON object with
`emailAddress` and `historyId`). Anything else is a MalformedPush saying what is missing.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any


class MalformedPush(ValueError):
    """The push body is not a Gmail notification."""


@dataclass(frozen=True)
class Notification:
    email_address: str
    history_id: int
    pubsub_message_id: str | None


def parse_push(body: bytes) -> Notification:
    """Return the Gmail notification inside a Pub/Sub push envelope, or raise MalformedPush."""
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedPush("the body is not JSON") from exc
    message = envelope.get("message") if isinstance(envelope, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("data"), str):
        raise MalformedPush("the body has no message.data")
    try:
        data: Any = json.loads(base64.b64decode(message["data"], validate=True))
    except (binascii.Error, ValueError) as exc:
        raise MalformedPush("message.data is not base64-encoded JSON") from exc
    if not isinstance(data, dict):
        raise MalformedPush("message.data is not a JSON object")
    address = data.get("emailAddress")
    if not isinstance(address, str) or "@" not in address:
        raise MalformedPush("message.data has no emailAddress")
    history = data.get("historyId")
    if isinstance(history, bool) or not isinstance(history, int | str) \
            or not str(history).isdigit():
        raise MalformedPush("message.data has no numeric historyId")
    message_id = message.get("messageId") or message.get("message_id")
    return Notification(address.strip().lower(), int(history),
                        str(message_id) if message_id else None)
