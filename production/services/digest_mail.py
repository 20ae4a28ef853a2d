"""The daily digest, mailed to the tenant's operator address through the email channel (Gmail
when configured, else the sandbox outbox, where `fte up` prints it): what the FTE did, held and
why, and the alerts of the day.

Each digest is mailed once: its mail's id is derived from the tenant and the day (a second
scheduler's copy is the same delivery row), and the digest is marked mailed when the channel
answered (a refusal, such as an address Gmail rejects, is kept on the delivery row and not
tried again). A provider outage leaves it unmailed for the next pass.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import structlog

from production.channels.base import ChannelAdapter, ProviderUnavailable
from production.database.pool import Pool
from production.database.queries import admin, ops_alerts
from production.domain.delivery import OutboundMessage

log = structlog.get_logger(__name__)

_MAIL_IDS = uuid.UUID("5d0c2a4e-6f0e-4c55-9a43-2f4f3b0d7a11")
# Digests older than this are not mailed any more (a tenant given an address today does not
# get a year of mail).
MAIL_BACK = timedelta(days=3)


def mail_id(tenant_id: str, day: date) -> uuid.UUID:
    return uuid.uuid5(_MAIL_IDS, f"digest:{tenant_id}:{day.isoformat()}")


def _lines(title: str, counts: dict[str, int]) -> list[str]:
    if not counts:
        return [f"{title}: none"]
    return [f"{title}:", *(f"  - {name}: {n}" for name, n in sorted(counts.items()))]


def render(tenant_name: str, summary: dict[str, Any]) -> tuple[str, str]:
    """Return the digest mail's subject and plain-text body."""
    subject = f"Daily digest {summary['day']}: {tenant_name}"
    alerts = summary.get("alerts", [])
    body = [f"What the Digital FTE did on {summary['day']} ({summary['timezone']}).", ""]
    for title, key in (("Autopilot executed", "autopilot_executed"),
                       ("Approved by people", "approved_by_people"), ("Held", "held"),
                       ("Deferred", "deferred"), ("Blocked", "blocked"),
                       ("Escalations opened", "escalations_opened")):
        body += _lines(title, summary.get(key, {}))
    body += ["", f"Drafts waiting for a person: {summary.get('pending_proposals', 0)}", ""]
    if alerts:
        body.append(f"Alerts open during the day: {len(alerts)}")
        for alert in alerts:
            state = "resolved" if alert.get("resolved_at") else "OPEN"
            body.append(f"  - [{alert['severity']}] {alert['summary']} ({state})")
    else:
        body.append("Alerts open during the day: none")
    return subject, "\n".join(body) + "\n"


async def mail_digests(*, pool: Pool, mailer: ChannelAdapter, tenant_id: str,
                       now: datetime) -> int:
    """Mail the tenant's digests not mailed yet (of the last few days), at `now`; return how
    many the channel took."""
    async with pool.acquire() as conn:
        due = await ops_alerts.unmailed_digests(conn, tenant_id,
                                                since=(now - MAIL_BACK).date())
    mailed = 0
    for row in due:
        subject, body = render(row.tenant_name, row.summary)
        message = OutboundMessage(
            tenant_id=tenant_id, message_id=mail_id(tenant_id, row.day), channel="email",
            recipient=row.operator_email, recipient_name=None, subject=subject, body=body,
            is_reply=False)
        try:
            receipt = await mailer.deliver(message)
        except ProviderUnavailable as exc:  # the next pass tries again
            log.warning("digest_mail_unavailable", tenant_id=tenant_id, error=str(exc)[:200])
            continue
        async with pool.acquire() as conn, conn.transaction():
            await ops_alerts.record_digest_mail(
                conn, tenant_id, row.day, mail_id=message.message_id, status=receipt.status,
                provider_ref=receipt.provider_ref, recipient=row.operator_email,
                subject=subject, body=body, error=receipt.error, now=now)
        mailed += receipt.status != "failed"
        log.info("digest_mailed", tenant_id=tenant_id, day=row.day.isoformat(),
                 status=receipt.status)
    return mailed


async def operator_address(*, pool: Pool, tenant_id: str) -> str | None:
    """Return where the tenant's daily digest is mailed (None: stored only)."""
    async with pool.acquire() as conn:
        return await ops_alerts.operator_email(conn, tenant_id)


async def set_operator_address(*, pool: Pool, tenant_id: str, email: str | None, actor: str,
                               now: datetime) -> str | None:
    """Mail the tenant's digests to `email` from now on (None: store them only), audited as a
    control-plane change (the address itself stays out of the audit: it is a person's)."""
    async with pool.acquire() as conn, conn.transaction():
        before = await ops_alerts.operator_email(conn, tenant_id)
        if before != email:
            await ops_alerts.set_operator_email(conn, tenant_id, email)
            await admin.append_audit(
                conn, tenant_id, event_type="executed_action", actor=actor,
                reason=f"digest address {'set' if email else 'removed'} by {actor}",
                clause="ADMIN.digest_address",
                payload={"action": "set_digest_address", "mailed": email is not None},
                now=now)
    return email


LOCAL_DEMO_ADDRESS = "operator@techcorp.example"


async def give_local_demo_an_address(*, pool: Pool, tenant_id: str, now: datetime) -> str:
    """Return where the local demo's digest goes: the tenant's address, or (none set yet)
    LOCAL_DEMO_ADDRESS, set now by `fte up`."""
    current = await operator_address(pool=pool, tenant_id=tenant_id)
    if current is not None:
        return current
    await set_operator_address(pool=pool, tenant_id=tenant_id, email=LOCAL_DEMO_ADDRESS,
                               actor="fte up", now=now)
    return LOCAL_DEMO_ADDRESS
