"""POST /webhooks/gmail: Gmail's Pub/Sub push notifications.

The sender is authenticated before the body is even read: Pub/Sub signs each push with an OIDC
token of the subscription's service account. Pub/Sub redelivers any push not answered with a
2xx, so a notification that could not be synced (Gmail or the database unavailable) is answered
503 and read again later; one that can never be (malformed, another mailbox) is not retried by
us. Malformed pushes get a 400 with the reason.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Header, HTTPException, Request

from production.api.deps import pool, state
from production.channels.gmail import (
    GmailClient,
    GmailNotConfigured,
    GmailRefused,
    GmailUnavailable,
    PushUnauthorized,
    PushVerifier,
)
from production.database.pool import Pool
from production.services.gmail_sync import Mailbox, MailboxLocks, sync_mailbox

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/v1", tags=["webhooks"])


class MalformedPush(ValueError):
    """The push body is not a Gmail notification."""


@dataclass(frozen=True)
class Notification:
    email_address: str
    history_id: int
    pubsub_message_id: str | None


@dataclass
class GmailInbox:
    """What the webhook keeps between requests: the token verifier (and its certificate
    cache), the Gmail client and the per-mailbox locks."""

    verifier: PushVerifier
    client: GmailClient
    locks: MailboxLocks


def _inbox(request: Request) -> GmailInbox:
    settings = state(request).settings
    if "email" not in settings.enabled_channels:
        raise HTTPException(status_code=404, detail="the email channel is not enabled")
    inbox: GmailInbox | None = getattr(request.app.state, "gmail_inbox", None)
    if inbox is None:
        try:
            client = GmailClient(settings.gmail)  # first: no credentials, nothing else matters
            inbox = GmailInbox(verifier=PushVerifier(settings.gmail), client=client,
                               locks=MailboxLocks())
        except GmailNotConfigured as exc:
            raise HTTPException(status_code=503,
                                detail=f"the email channel is not configured: {exc}") from exc
        request.app.state.gmail_inbox = inbox
    return inbox


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


@router.post("/webhooks/gmail")
async def gmail_push(
    request: Request,
    inbox: Annotated[GmailInbox, Depends(_inbox)],
    db: Annotated[Pool, Depends(pool)],
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    settings = state(request).settings
    try:
        await inbox.verifier.verify(authorization)
    except PushUnauthorized as exc:
        log.warning("gmail_push_unauthorized", reason=str(exc))
        raise HTTPException(status_code=401, detail=f"unauthorized: {exc}",
                            headers={"WWW-Authenticate": "Bearer"}) from exc
    except GmailUnavailable as exc:  # Google's certificates could not be fetched
        raise _retry_later(exc) from exc
    try:
        notification = parse_push(await request.body())
    except MalformedPush as exc:
        raise HTTPException(status_code=400, detail=f"malformed push: {exc}") from exc
    mailbox = Mailbox.from_settings(settings)
    if notification.email_address != mailbox.address:
        # Not a mailbox we serve: acknowledge, or Pub/Sub would redeliver it for days.
        log.warning("gmail_push_other_mailbox")
        return {"status": "ignored", "reason": "not the support mailbox"}
    try:
        result = await sync_mailbox(pool=db, client=inbox.client, mailbox=mailbox,
                                    notified_history_id=notification.history_id,
                                    locks=inbox.locks)
    except GmailUnavailable as exc:
        raise _retry_later(exc) from exc
    except GmailRefused as exc:
        log.error("gmail_sync_refused", error=str(exc))
        raise HTTPException(status_code=502, detail=f"Gmail refused the sync: {exc}") from exc
    return {"status": "ok", "mode": result.mode, "stored": result.stored,
            "duplicates": result.duplicates, "skipped": result.skipped,
            "history_id": str(result.history_id) if result.history_id is not None else None}


def _retry_later(exc: Exception) -> HTTPException:
    log.warning("gmail_unavailable", error=str(exc))
    return HTTPException(status_code=503, detail=f"Gmail is unavailable, please retry: {exc}",
                         headers={"Retry-After": "5"})
