"""Gmail: turn a push notification into stored inbound messages, and keep the push watch alive.

A notification only says "mailbox X changed up to historyId H". The sync reads what was added
since the stored historyId (users.history.list), fetches each new message, drops mail that must
not be answered (our own, auto-replies, bounces), and accepts the rest through intake's outbox,
deduplicated on the Gmail message id. The mailbox row stays locked for the whole sync, and
its historyId only moves forward, and only after every message was accepted: a failed sync is
simply read again by the next notification (Pub/Sub redelivers a push we answer with an error).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import structlog

from production import clock
from production.channels.gmail import (
    GmailClient,
    GmailNotConfigured,
    GmailRefused,
    GmailUnavailable,
    HistoryGone,
    RawMessage,
)
from production.config import Settings
from production.database.pool import Pool, create_pool
from production.database.queries import gmail as mailboxes
from production.domain import email_mime
from production.domain.messages import InboundMessage, InvalidMessage
from production.services import intake

log = structlog.get_logger(__name__)

# What a full sync (no usable historyId) reads: recent inbox mail.
FULL_SYNC_QUERY = "in:inbox newer_than:7d"
# Labels of mail that is not a customer writing to us.
_NOT_CUSTOMER_MAIL = {"SENT": "own_mail", "DRAFT": "own_mail", "SPAM": "spam", "TRASH": "trash"}


@dataclass(frozen=True)
class SyncResult:
    mode: Literal["history", "full", "up_to_date"]
    history_id: int | None
    stored: int = 0
    duplicates: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> how many


class MailboxLocks:
    """One asyncio lock per mailbox, so one process waits for the database row lock with a
    single connection, however many notifications arrive at once."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def __call__(self, address: str) -> asyncio.Lock:
        return self._locks.setdefault(address, asyncio.Lock())


@dataclass(frozen=True)
class Mailbox:
    tenant_id: str
    address: str
    topic: str  # where accepted messages go (the incoming topic)
    full_sync_max: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailbox:
        return cls(tenant_id=settings.default_tenant,
                   address=settings.gmail.support_address.lower(),
                   topic=settings.kafka.topic_incoming,
                   full_sync_max=settings.gmail.full_sync_max_messages)


async def sync_mailbox(*, pool: Pool, client: GmailClient, mailbox: Mailbox,
                       notified_history_id: int | None, locks: MailboxLocks) -> SyncResult:
    """Accept every message added to the mailbox since the last sync; return what happened."""
    async with locks(mailbox.address), pool.acquire() as conn, conn.transaction():
        row = await mailboxes.lock_mailbox(conn, mailbox.tenant_id, mailbox.address)
        start: int | None = row.history_id
        if start is not None and notified_history_id is not None \
                and notified_history_id <= start:
            return SyncResult("up_to_date", start)  # a late or repeated notification
        mode, ids, current, skipped = await _changes(client, mailbox, start)
        known = await mailboxes.stored_message_ids(conn, mailbox.tenant_id, ids) if ids else set()
        outcomes = Counter([await _accept(pool=pool, client=client, mailbox=mailbox,
                                          gmail_id=gmail_id)
                            for gmail_id in ids if gmail_id not in known])
        history_id = await mailboxes.advance_history(conn, mailbox.tenant_id, mailbox.address,
                                                     current)
    stored = outcomes.pop("stored", 0)
    duplicates = len(known) + outcomes.pop("duplicate", 0)
    skipped.update(outcomes)
    log.info("gmail_synced", mode=mode, history_id=history_id, stored=stored,
             duplicates=duplicates, skipped=dict(skipped))
    return SyncResult(mode, history_id, stored=stored, duplicates=duplicates,
                      skipped=dict(skipped))


async def _changes(client: GmailClient, mailbox: Mailbox, start: int | None
                   ) -> tuple[Literal["history", "full"], list[str], int, Counter[str]]:
    """Return how the mailbox is read, the message ids to look at (oldest first), the historyId
    to store afterwards, and the messages already left out (by their labels)."""
    skipped: Counter[str] = Counter()
    if start is not None:
        try:
            added, current = await client.added_since(start)
        except HistoryGone:
            log.warning("gmail_history_gone", history_id=start)
        else:
            ids = []
            for item in added:
                reason = _label_reason(item.label_ids)
                if reason:
                    skipped[reason] += 1
                else:
                    ids.append(item.id)
            return "history", ids, current, skipped
    ids, current = await _recent(client, mailbox)
    return "full", ids, current, skipped


async def _recent(client: GmailClient, mailbox: Mailbox) -> tuple[list[str], int]:
    """Return recent inbox message ids (oldest first) and the historyId to go on from.

    The profile's historyId is read first: mail that arrives while we list is after it, so
    the next history sync still sees it.
    """
    profile = await client.profile()
    ids = await client.recent_ids(FULL_SYNC_QUERY, mailbox.full_sync_max)
    return list(reversed(ids)), int(profile["historyId"])


def _label_reason(labels: Iterable[str]) -> str | None:
    return next((_NOT_CUSTOMER_MAIL[label] for label in labels if label in _NOT_CUSTOMER_MAIL),
                None)


async def _accept(*, pool: Pool, client: GmailClient, mailbox: Mailbox, gmail_id: str) -> str:
    """Fetch, check and accept one message; return "stored", "duplicate" or why it was not."""
    try:
        fetched = await client.get_raw(gmail_id)
    except GmailRefused as exc:  # this message only: the rest of the mailbox goes on
        log.warning("gmail_message_refused", gmail_message_id=gmail_id, error=str(exc))
        return "refused"
    if fetched is None:
        return "gone"
    reason = _label_reason(fetched.label_ids)
    if reason:
        return reason
    mail = email_mime.parse_email(fetched.raw)
    reason = email_mime.skip_reason(mail, own_addresses=(mailbox.address,))
    if reason:
        log.info("gmail_message_ignored", gmail_message_id=gmail_id, reason=reason)
        return reason
    inbound = _inbound(mailbox, fetched, mail)
    if inbound is None:
        return "empty"
    try:
        accepted = await intake.accept_inbound(pool=pool, msg=inbound, topic=mailbox.topic)
    except InvalidMessage:
        log.info("gmail_message_ignored", gmail_message_id=gmail_id, reason="no_sender")
        return "no_sender"
    return "stored" if accepted.created else "duplicate"


def _inbound(mailbox: Mailbox, fetched: RawMessage,
             mail: email_mime.ParsedEmail) -> InboundMessage | None:
    # A mail with only a subject ("Refund please") is still a request.
    content = (mail.content or mail.subject or "").strip()[:email_mime.MAX_CONTENT]
    if not content:
        return None
    received = (datetime.fromtimestamp(fetched.internal_date_ms / 1000, UTC)
                if fetched.internal_date_ms else clock.now())
    return InboundMessage(
        tenant_id=mailbox.tenant_id, channel="email", external_id=fetched.id,
        content=content, subject=mail.subject, sender_name=mail.sender_name,
        sender_email=mail.sender_email, received_at=received,
        metadata={"gmail_thread_id": fetched.thread_id, "message_id_header": mail.message_id,
                  "references": " ".join(mail.references) or None,
                  "in_reply_to": mail.in_reply_to},
    )


# ---------------------------------------------------------------------------------------------
# The push watch


@dataclass(frozen=True)
class WatchResult:
    renewed: bool
    history_id: int | None
    expires_at: datetime | None
    renew_at: datetime | None  # when the next renewal is due

    def as_json(self) -> dict[str, Any]:
        return {"renewed": self.renewed,
                "history_id": str(self.history_id) if self.history_id is not None else None,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "renew_at": self.renew_at.isoformat() if self.renew_at else None}


async def renew_watch(*, pool: Pool, client: GmailClient, mailbox: Mailbox, topic: str,
                      renew_before_s: float, now: datetime,
                      force: bool = False) -> WatchResult:
    """Call users.watch when the stored watch expires within `renew_before_s` of `now` (or
    `force`)."""
    margin = timedelta(seconds=renew_before_s)
    async with pool.acquire() as conn:
        row = await mailboxes.get_mailbox(conn, mailbox.tenant_id, mailbox.address)
    expires: datetime | None = row.watch_expires_at if row else None
    if not force and row is not None and expires is not None and expires - now > margin:
        return WatchResult(False, row.history_id, expires, expires - margin)
    answer = await client.watch(topic, ["INBOX"])
    expires = datetime.fromtimestamp(int(answer["expiration"]) / 1000, UTC)
    async with pool.acquire() as conn:
        stored = await mailboxes.record_watch(conn, mailbox.tenant_id, mailbox.address,
                                              history_id=int(answer["historyId"]),
                                              expires_at=expires)
    log.info("gmail_watch_renewed", expires_at=expires.isoformat())
    return WatchResult(True, stored.history_id, expires, expires - margin)


async def keep_watching(*, pool: Pool, client: GmailClient, mailbox: Mailbox, topic: str,
                        renew_before_s: float, force: bool, stopping: asyncio.Event,
                        emit: Callable[[WatchResult], None], retry_s: float = 60.0,
                        min_sleep_s: float = 60.0) -> None:
    """Renew the watch whenever it is due, until `stopping` is set."""
    while not stopping.is_set():
        try:
            result = await renew_watch(pool=pool, client=client, mailbox=mailbox, topic=topic,
                                       renew_before_s=renew_before_s, force=force,
                                       now=clock.now())
        except (GmailUnavailable, GmailRefused) as exc:
            log.warning("gmail_watch_failed", error=str(exc))
            delay = retry_s
        else:
            emit(result)
            force = False
            now = clock.now()
            delay = max(((result.renew_at or now) - now).total_seconds(), min_sleep_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)


async def run_watch(*, settings: Settings, force: bool, loop: bool,
                    emit: Callable[[dict[str, Any]], None],
                    stopping: asyncio.Event | None = None) -> int:
    """`fte gmail watch`: renew once (or keep renewing with `loop`); return the exit code."""
    gmail = settings.gmail
    if not gmail.pubsub_topic:
        raise GmailNotConfigured("GMAIL_PUBSUB_TOPIC is not set")
    client = GmailClient(gmail)
    mailbox = Mailbox.from_settings(settings)
    pool = await create_pool(settings, min_size=1, max_size=2)
    try:
        if not loop:
            result = await renew_watch(pool=pool, client=client, mailbox=mailbox,
                                       topic=gmail.pubsub_topic,
                                       renew_before_s=gmail.watch_renew_before_s, force=force,
                                       now=clock.now())
            emit(result.as_json())
            return 0
        if stopping is None:
            stopping = asyncio.Event()
            for sig in (signal.SIGTERM, signal.SIGINT):
                asyncio.get_running_loop().add_signal_handler(sig, stopping.set)
        await keep_watching(pool=pool, client=client, mailbox=mailbox, topic=gmail.pubsub_topic,
                            renew_before_s=gmail.watch_renew_before_s, force=force,
                            stopping=stopping, emit=lambda r: emit(r.as_json()))
        return 0
    finally:
        await pool.close()
