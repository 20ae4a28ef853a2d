"""POST /webhooks/gmail: Gmail's Pub/Sub push notifications.

The sender is authenticated before the body is parsed: Pub/Sub signs each push with an OIDC
token of the subscription's service account. Pub/Sub redelivers any push not answered with a
2xx, so a notification that could not be synced (Gmail or the database unavailable) is answered
503 and read again later; one that can never be (malformed, another mailbox) is not retried by
us. Malformed pushes get a 400 with the reason. Each refusal is the app's exception mapping's
(`api/errors.py`): PushUnauthorized 401, MalformedPush 400, GmailRefused 502, GmailUnavailable
and GmailNotConfigured 503.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel

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


# The push envelope, read by hand after the token check (so FastAPI does not declare it).
_PUSH_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["message"], "properties": {
        "message": {"type": "object", "required": ["data"], "properties": {
            "data": {"type": "string", "description": "base64 of {emailAddress, historyId}"},
            "messageId": {"type": "string"}, "publishTime": {"type": "string"}}},
        "subscription": {"type": "string"}}}}}}}


class PushAnswer(BaseModel):
    status: str
    reason: str | None = None
    mode: str | None = None
    stored: int | None = None
    duplicates: int | None = None
    skipped: dict[str, int] | None = None  # reason -> how many
    history_id: str | None = None


@router.post("/webhooks/gmail", response_model=PushAnswer, response_model_exclude_none=True,
             openapi_extra=_PUSH_BODY, responses={
                 401: {"description": "The OIDC token is missing or not the push's"}})
async def gmail_push(
    request: Request,
    inbox: Annotated[GmailInbox, Depends(_inbox)],
    db: Db,
    authorization: Annotated[str | None, Header()] = None,
) -> PushAnswer:
    settings = state(request).settings
    await inbox.verifier.verify(authorization)
    notification = parse_push(await request.body())
    mailbox = Mailbox.from_settings(settings)
    if notification.email_address != mailbox.address:
        # Not a mailbox we serve: acknowledge, or Pub/Sub would redeliver it for days.
        log.warning("gmail_push_other_mailbox")
        return PushAnswer(status="ignored", reason="not the support mailbox")
    result = await sync_mailbox(pool=db, client=inbox.client, mailbox=mailbox,
                                notified_history_id=notification.history_id,
                                locks=inbox.locks)
    return PushAnswer(status="ok", mode=result.mode, stored=result.stored,
                      duplicates=result.duplicates, skipped=result.skipped,
                      history_id=str(result.history_id) if result.history_id is not None
                      else None)
