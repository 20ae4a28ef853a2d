"""POST /webhooks/gmail: Gmail's Pub/Sub push notifications.

The sender is authenticated before the body is even read: Pub/Sub signs each push with an OIDC
token of the subscription's service account. Pub/Sub redelivers any push not answered with a
2xx, so a notification that could not be synced (Gmail or the database unavailable) is answered
503 and read again later; one that can never be (malformed, another mailbox) is not retried by
us. Malformed pushes get a 400 with the reason. Each refusal is the app's exception mapping's
(`api/errors.py`): PushUnauthorized 401, MalformedPush 400, GmailRefused 502, GmailUnavailable
and GmailNotConfigured 503.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Header, HTTPException, Request

from production.api.deps import Db, state
from production.channels.gmail import GmailClient
from production.channels.gmail_push import PushVerifier
from production.domain.gmail_push import parse_push
from production.services.gmail_sync import Mailbox, MailboxLocks, sync_mailbox

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/v1", tags=["webhooks"])


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
        client = GmailClient(settings.gmail)  # first: no credentials, nothing else matters
        inbox = GmailInbox(verifier=PushVerifier(settings.gmail), client=client,
                           locks=MailboxLocks())
        request.app.state.gmail_inbox = inbox
    return inbox


@router.post("/webhooks/gmail")
async def gmail_push(
    request: Request,
    inbox: Annotated[GmailInbox, Depends(_inbox)],
    db: Db,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    settings = state(request).settings
    await inbox.verifier.verify(authorization)
    notification = parse_push(await request.body())
    mailbox = Mailbox.from_settings(settings)
    if notification.email_address != mailbox.address:
        # Not a mailbox we serve: acknowledge, or Pub/Sub would redeliver it for days.
        log.warning("gmail_push_other_mailbox")
        return {"status": "ignored", "reason": "not the support mailbox"}
    result = await sync_mailbox(pool=db, client=inbox.client, mailbox=mailbox,
                                notified_history_id=notification.history_id,
                                locks=inbox.locks)
    return {"status": "ok", "mode": result.mode, "stored": result.stored,
            "duplicates": result.duplicates, "skipped": result.skipped,
            "history_id": str(result.history_id) if result.history_id is not None else None}
