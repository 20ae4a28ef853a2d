"""The Gmail channel's adapters: the Gmail API client and reply delivery (the Pub/Sub push's
OIDC authentication is gmail_push.py).

google-api-python-client and google-auth are synchronous: every call runs in a worker thread
(`asyncio.to_thread`) with its own `httplib2.Http` (which is not thread-safe) bounded by
`GMAIL_TIMEOUT_S`, so the event loop never waits on Google.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import google.auth.exceptions
import google_auth_httplib2  # type: ignore[import-untyped]
import httplib2  # type: ignore[import-untyped]
import structlog
from google.auth.credentials import Credentials
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from googleapiclient.discovery import build  # type: ignore[import-untyped]
from googleapiclient.errors import HttpError  # type: ignore[import-untyped]

from production.channels.base import ProviderUnavailable
from production.config import GmailSettings
from production.domain import email_mime
from production.domain.delivery import DeliveryReceipt, OutboundMessage

log = structlog.get_logger(__name__)

# Read the inbox, send replies, watch for new mail: gmail.modify covers all three.
SCOPES = ("https://www.googleapis.com/auth/gmail.modify",)
# Gmail's 403 reasons that mean "slow down", not "not allowed".
_RATE_LIMIT_REASONS = re.compile(r"rate ?limit|quota", re.IGNORECASE)


class GmailNotConfigured(Exception):
    """GMAIL_CREDENTIALS_JSON is missing or not a usable credentials document."""


class GmailUnavailable(Exception):
    """Gmail did not answer usefully, and trying again later may work: a timeout, a connection
    error, a 5xx, a 429 or a rate-limit 403, or a failed token refresh. `maybe_sent`: the
    request may have reached Gmail (a timeout, a connection dropped), not an error answer."""

    def __init__(self, reason: str, *, maybe_sent: bool = False) -> None:
        super().__init__(reason)
        self.maybe_sent = maybe_sent


class GmailRefused(Exception):
    """Gmail refused the request for good (a 4xx): retrying the same request will not help."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"Gmail answered {status}: {reason}")
        self.status = status


class HistoryGone(Exception):
    """The stored historyId is too old or unknown to Gmail (404): only a full sync helps."""


def load_credentials(gmail: GmailSettings) -> Credentials:
    """Return the credentials GMAIL_CREDENTIALS_JSON describes.

    "authorized_user": an OAuth refresh token of the support mailbox (token_uri says where it is
    refreshed). "service_account": domain-wide delegation, acting as the support address.
    """
    if gmail.credentials_json is None:
        raise GmailNotConfigured("GMAIL_CREDENTIALS_JSON is not set")
    try:
        info = json.loads(gmail.credentials_json.get_secret_value())
    except json.JSONDecodeError as exc:
        raise GmailNotConfigured(f"GMAIL_CREDENTIALS_JSON is not JSON: {exc.msg}") from exc
    if not isinstance(info, dict):
        raise GmailNotConfigured("GMAIL_CREDENTIALS_JSON must be a JSON object")
    kind = info.get("type")
    try:
        if kind == "authorized_user":
            user = user_credentials.Credentials.from_authorized_user_info(  # type: ignore[no-untyped-call]
                info, scopes=info.get("scopes"))
            creds: Credentials = user.with_token_uri(gmail.token_uri) if gmail.token_uri else user
            return creds
        if kind == "service_account":
            account = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=list(SCOPES), subject=gmail.support_address)
            delegated: Credentials = (account.with_token_uri(gmail.token_uri)
                                      if gmail.token_uri else account)
            return delegated
    except (ValueError, KeyError) as exc:
        raise GmailNotConfigured(f"GMAIL_CREDENTIALS_JSON is incomplete: {exc}") from exc
    raise GmailNotConfigured(
        f"GMAIL_CREDENTIALS_JSON type {kind!r} is not supported "
        "(use 'authorized_user' or 'service_account')")


@dataclass(frozen=True)
class AddedMessage:
    id: str
    thread_id: str | None
    label_ids: tuple[str, ...]


@dataclass(frozen=True)
class RawMessage:
    id: str
    thread_id: str | None
    label_ids: tuple[str, ...]
    internal_date_ms: int | None
    raw: bytes


class GmailClient:
    """The Gmail API calls the channel makes, as coroutines; errors come out classified."""

    def __init__(self, gmail: GmailSettings, *, user_id: str = "me") -> None:
        self._credentials = load_credentials(gmail)
        self._timeout_s = gmail.timeout_s
        self._user_id = user_id
        # The static discovery document ships with the library: no network at build time.
        # api_endpoint replaces rootUrl + servicePath, so every request goes to api_base_url.
        self._service = build("gmail", "v1", credentials=self._credentials,
                              static_discovery=True, cache_discovery=False,
                              client_options={"api_endpoint": gmail.api_base_url})

    async def profile(self) -> dict[str, Any]:
        """Return the mailbox's profile: emailAddress and the current historyId."""
        return await self._call("profile", lambda u: u.getProfile, userId=self._user_id)

    async def added_since(self, start_history_id: int) -> tuple[list[AddedMessage], int]:
        """Return the messages added after `start_history_id`, oldest first, and the mailbox's
        current historyId. Raises HistoryGone when Gmail no longer has that point."""
        added: dict[str, AddedMessage] = {}
        page: str | None = None
        current = start_history_id
        while True:
            try:
                body = await self._call(
                    "history.list", lambda u: u.history().list, userId=self._user_id,
                    startHistoryId=str(start_history_id), historyTypes=["messageAdded"],
                    pageToken=page, maxResults=500)
            except GmailRefused as exc:
                if exc.status == 404:
                    raise HistoryGone(str(exc)) from exc
                raise
            current = max(current, int(body.get("historyId") or 0))
            for record in body.get("history", []):
                for item in record.get("messagesAdded", []):
                    msg = item.get("message") or {}
                    if msg.get("id") and msg["id"] not in added:
                        added[msg["id"]] = AddedMessage(msg["id"], msg.get("threadId"),
                                                        tuple(msg.get("labelIds") or ()))
            page = body.get("nextPageToken")
            if not page:
                return list(added.values()), current

    async def recent_ids(self, query: str, limit: int) -> list[str]:
        """Return up to `limit` message ids matching a Gmail search, newest first."""
        ids: list[str] = []
        page: str | None = None
        while len(ids) < limit:
            body = await self._call("messages.list", lambda u: u.messages().list,
                                    userId=self._user_id, q=query,
                                    maxResults=min(500, limit - len(ids)), pageToken=page)
            ids += [m["id"] for m in body.get("messages", []) if m.get("id")]
            page = body.get("nextPageToken")
            if not page:
                break
        return ids[:limit]

    async def get_raw(self, message_id: str) -> RawMessage | None:
        """Return one message with its RFC 5322 bytes, or None when it is gone (404) or its
        body cannot be decoded."""
        try:
            body = await self._call("messages.get", lambda u: u.messages().get,
                                    userId=self._user_id, id=message_id, format="raw")
        except GmailRefused as exc:
            if exc.status == 404:
                return None
            raise
        try:
            raw = base64.urlsafe_b64decode(padded(body.get("raw") or ""))
        except (binascii.Error, ValueError):
            log.warning("gmail_message_unreadable", gmail_message_id=message_id)
            return None
        internal = body.get("internalDate")
        return RawMessage(id=body.get("id", message_id), thread_id=body.get("threadId"),
                          label_ids=tuple(body.get("labelIds") or ()),
                          internal_date_ms=int(internal) if internal else None, raw=raw)

    async def send(self, raw: bytes, thread_id: str | None) -> dict[str, Any]:
        """Send a composed message (in `thread_id` when given); return Gmail's message."""
        body: dict[str, Any] = {"raw": base64.urlsafe_b64encode(raw).decode("ascii")}
        if thread_id:
            body["threadId"] = thread_id
        return await self._call("messages.send", lambda u: u.messages().send,
                                userId=self._user_id, body=body)

    async def watch(self, topic: str, label_ids: list[str]) -> dict[str, Any]:
        """Start (or renew) push notifications to a Pub/Sub topic; return historyId and
        expiration (epoch milliseconds)."""
        return await self._call("watch", lambda u: u.watch, userId=self._user_id, body={
            "topicName": topic, "labelIds": label_ids, "labelFilterBehavior": "include"})

    async def _call(self, what: str, method: Callable[[Any], Any], **params: Any
                    ) -> dict[str, Any]:
        """Build `method(users)(**params)` here, execute it in a worker thread."""
        request = method(self._service.users())(**params)
        return await asyncio.to_thread(self._execute, what, request)

    def _execute(self, what: str, request: Any) -> dict[str, Any]:
        """Run one request in this thread over a fresh connection; classify what fails."""
        http = google_auth_httplib2.AuthorizedHttp(
            self._credentials, http=httplib2.Http(timeout=self._timeout_s))
        try:
            result: dict[str, Any] = request.execute(http=http)
            return result
        except HttpError as exc:
            raise _classified(what, exc) from exc
        except google.auth.exceptions.RefreshError as exc:
            # A revoked or wrong refresh token: nothing is sent until an operator fixes it,
            # so the dispatcher keeps the reply for later rather than failing it.
            raise GmailUnavailable(f"{what}: the Gmail token refresh failed: {exc}") from exc
        except (OSError, httplib2.HttpLib2Error, google.auth.exceptions.TransportError) as exc:
            raise GmailUnavailable(f"{what}: {type(exc).__name__}: {exc}",
                                   maybe_sent=_maybe_reached(exc)) from exc
        finally:
            http.close()


def _classified(what: str, exc: HttpError) -> Exception:
    status = int(exc.status_code)
    reason = str(exc.reason or "")
    if status >= 500 or status == 429 or (status == 403 and _RATE_LIMIT_REASONS.search(reason)):
        return GmailUnavailable(f"{what}: Gmail answered {status}: {reason}")
    return GmailRefused(status, f"{what}: {reason}" if reason else what)


def _maybe_reached(exc: Exception) -> bool:
    """Whether a request that failed this way may have reached Gmail: not when the connection
    was refused or the host not found, or Google's token endpoint failed before it."""
    return not isinstance(exc, (ConnectionRefusedError, socket.gaierror,
                                httplib2.ServerNotFoundError,
                                google.auth.exceptions.TransportError))


def padded(data: str) -> str:
    return data + "=" * (-len(data) % 4)


# ---------------------------------------------------------------------------------------------
# Delivery


class GmailAdapter:
    """Sends the agent's reply from the support address, in the customer's Gmail thread."""

    channel = "email"

    def __init__(self, gmail: GmailSettings, client: GmailClient | None = None) -> None:
        self._gmail = gmail
        self._client = client or GmailClient(gmail)

    def message_id(self, message: OutboundMessage) -> str:
        """The Message-ID header of the mail `message` goes out as (derived from its id)."""
        domain = self._gmail.support_address.rpartition("@")[2] or "localhost"
        return f"<fte-{message.message_id}@{domain}>"

    async def find_sent(self, message: OutboundMessage, *,
                        since: datetime) -> DeliveryReceipt | None:
        """Return the receipt of the mail `message` went out as, found in the mailbox by its
        own Message-ID (Gmail's `rfc822msgid:` search), or None. The Message-ID is ours and
        unique, so `since` does not narrow the search."""
        query = f"rfc822msgid:{self.message_id(message).strip('<>')}"
        try:
            found = await self._client.recent_ids(query, 1)
        except GmailUnavailable as exc:
            raise ProviderUnavailable(str(exc)) from exc
        except GmailRefused as exc:  # cannot look: sending again risks a duplicate, not a loss
            log.warning("gmail_lookup_refused", message_id=str(message.message_id),
                        error=str(exc)[:200])
            return None
        return DeliveryReceipt(status="delivered", provider_ref=found[0]) if found else None

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        if not message.recipient:
            return DeliveryReceipt(status="failed", error="the customer has no email address")
        meta = message.reply_to_metadata
        parent = meta.get("message_id_header")
        raw = email_mime.compose_reply(
            from_address=self._gmail.support_address, to_address=message.recipient,
            to_name=message.recipient_name,
            # A reply keeps its thread's subject; a mail of our own (the digest) its own.
            subject=(email_mime.reply_subject(message.subject) if message.is_reply
                     else message.subject or ""),
            body=message.body, in_reply_to=parent,
            references=email_mime.references_chain(meta.get("references"), parent),
            # Derived from our message id: the dispatcher finds a send whose answer it lost by
            # it (find_sent), and mail clients show a duplicate that got through anyway once.
            message_id=self.message_id(message),
        )
        try:
            sent = await self._client.send(raw, meta.get("gmail_thread_id"))
        except GmailUnavailable as exc:
            raise ProviderUnavailable(str(exc), maybe_sent=exc.maybe_sent) from exc
        except GmailRefused as exc:
            return DeliveryReceipt(status="failed", error=str(exc))
        return DeliveryReceipt(status="delivered", provider_ref=str(sent.get("id")))
