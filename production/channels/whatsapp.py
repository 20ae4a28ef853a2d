"""WhatsApp delivery through Twilio's Messages API, with the `twilio` client library.

A reply longer than one WhatsApp message is split at sentence boundaries (the channel
formatter's `split_message`) and sent part by part, in order. The adapter stores nothing: it is
told which parts an earlier attempt sent, and hands back each part Twilio accepts as soon as it
does, for its caller (`services/whatsapp_delivery.py`) to store before the next part is sent;
`sent_since` lists what Twilio holds for the recipient, for a part whose acceptance was lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import requests
from twilio.base.exceptions import (  # type: ignore[import-untyped]
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
from twilio.http.response import Response  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]
from urllib3.exceptions import NewConnectionError

from production.channels.base import ProviderUnavailable, Refused
from production.config import Settings
from production.domain.delivery import OutboundMessage, SentPart
from production.domain.formatting import split_message
from production.domain.whatsapp import ADDRESS_PREFIX, redact_numbers

TWILIO_API = "https://api.twilio.com"
STATUS_CALLBACK_PATH = "/api/v1/webhooks/whatsapp/status"
# Twilio refuses a message body over 1,600 characters (error 21617).
BODY_LIMIT = 1600
# How far Twilio's clock may be from ours when its messages are matched to an attempt's start.
CLOCK_MARGIN = timedelta(minutes=5)
# The client logs about ten INFO lines (URL, headers) per request: keep only its warnings.
_HTTP_LOG = logging.getLogger(f"{__name__}.twilio_http")
_HTTP_LOG.setLevel(logging.WARNING)


class ApiRootHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """The twilio library's HTTP client, sending api.twilio.com requests to another API root
    (an egress proxy, or a local fake in tests). Every other request is left alone."""

    def __init__(self, api_root: str, *, timeout: float) -> None:
        super().__init__(timeout=timeout, logger=_HTTP_LOG)
        self.api_root = api_root.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API + "/"):
            url = self.api_root + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


def twilio_client(settings: Settings) -> Client:
    """Return a Twilio REST client for the configured account, API root and timeout."""
    twilio = settings.twilio
    if twilio.account_sid is None or twilio.auth_token is None:
        raise RuntimeError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set")
    return Client(twilio.account_sid, twilio.auth_token.get_secret_value(),
                  http_client=ApiRootHttpClient(twilio.api_base_url, timeout=twilio.timeout_s))


class WhatsAppAdapter:
    channel = "whatsapp"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = twilio_client(settings)
        public_url = settings.api.public_url
        self.status_callback = (public_url.rstrip("/") + STATUS_CALLBACK_PATH
                                if public_url else None)

    async def send(self, message: OutboundMessage, *,
                   sent: Mapping[int, str]) -> AsyncIterator[SentPart]:
        """Yield every part of the reply in order: those in `sent` (an earlier attempt's SIDs,
        by part index) as they are, the others once Twilio accepted them (`new`).

        Raises `Refused` (no sender or recipient number, or Twilio refused a part for good)
        or `ProviderUnavailable`; the parts yielded before it stay sent.
        """
        sender = (self.settings.twilio.whatsapp_number
                  or _metadata_str(message.reply_to_metadata, "to"))
        recipient = _recipient(message)
        if not sender:
            raise Refused("no WhatsApp sender number (set TWILIO_WHATSAPP_NUMBER)")
        if not recipient:
            raise Refused("the customer has no WhatsApp number")
        for index, body in enumerate(self.parts(message)):
            sid = sent.get(index)
            if sid is None:
                yield SentPart(index, await self._send(sender, recipient, body), new=True)
            else:
                yield SentPart(index, sid, new=False)

    async def _send(self, sender: str, recipient: str, body: str) -> str:
        """Create one Twilio message; return its SID."""
        extra = {"status_callback": self.status_callback} if self.status_callback else {}
        try:
            created = await asyncio.to_thread(
                self.client.messages.create, from_=ADDRESS_PREFIX + sender,
                to=ADDRESS_PREFIX + recipient, body=body, **extra)
        except (TwilioRestException, TwilioServiceException) as exc:
            reason = f"twilio error {exc.code} (HTTP {exc.status})"
            if exc.status in (401, 429) or exc.status >= 500:
                # 401: the credentials are wrong until an operator fixes them; keep the reply.
                raise ProviderUnavailable(reason) from exc
            detail = getattr(exc, "msg", None) or getattr(exc, "detail", None) or ""
            raise Refused(redact_numbers(f"{reason}: {detail}".rstrip(": "))) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise ProviderUnavailable(f"twilio unreachable: {type(exc).__name__}",
                                      maybe_sent=_maybe_reached(exc)) from exc
        sid: str = created.sid
        return sid

    def parts(self, message: OutboundMessage) -> list[str]:
        """Return the bodies the reply goes out in, in order."""
        return split_message(message.body, BODY_LIMIT)

    async def sent_since(self, message: OutboundMessage, *,
                         since: datetime) -> list[tuple[str, str]]:
        """Return (SID, body) of the messages Twilio holds from our number to the reply's
        recipient created at `since` or later, oldest first (empty when either number is
        unknown). Twilio filters by the day sent (`DateSent>=`); the instant is checked here,
        with a margin for the two clocks."""
        sender = (self.settings.twilio.whatsapp_number
                  or _metadata_str(message.reply_to_metadata, "to"))
        recipient = _recipient(message)
        if not sender or not recipient:
            return []
        after = since - CLOCK_MARGIN
        try:
            found = await asyncio.to_thread(
                self.client.messages.list, to=ADDRESS_PREFIX + recipient,
                from_=ADDRESS_PREFIX + sender, date_sent_after=after.date(), page_size=100)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise ProviderUnavailable(f"twilio error {exc.code} (HTTP {exc.status})") from exc
        except (requests.RequestException, TwilioException) as exc:
            raise ProviderUnavailable(f"twilio unreachable: {type(exc).__name__}") from exc
        return [(m.sid, m.body) for m in reversed(found)  # Twilio lists the newest first
                if m.date_created is None or m.date_created >= after]


def _maybe_reached(exc: Exception) -> bool:
    """Whether a request that failed this way may have reached Twilio: not when the connection
    could not be made (refused, no such host, a connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return not isinstance(reason, NewConnectionError)
    return True


def _recipient(message: OutboundMessage) -> str | None:
    """The number the customer wrote from (Twilio's WaId), else the customer's phone."""
    wa_id = _metadata_str(message.reply_to_metadata, "wa_id")
    return f"+{wa_id}" if wa_id.isdigit() else message.recipient


def _metadata_str(metadata: Mapping[str, Any], key: str) -> str:
    value = metadata.get(key)
    return value if isinstance(value, str) else ""
