"""The alerts the scheduler records (migration 015), the daily digest's mail, and the one-time
console sign-in tokens of `fte up`.

`tenants_to_check` spans every tenant, like the scheduler's other sweeps; every other statement
is one tenant's. Every instant is the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from production.database.pool import Connection

_ALERT_COLUMNS = ("id, kind, channel, severity, value, threshold, summary, opened_at, "
                  "last_seen_at, resolved_at")


@dataclass(frozen=True)
class Alert:
    """An ops_alerts row; `channel` is '' for a tenant-wide alert."""

    id: int
    kind: str
    channel: str
    severity: str
    value: float
    threshold: float
    summary: str
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class UnmailedDigest:
    day: date
    summary: dict[str, Any]
    operator_email: str
    tenant_name: str


async def tenants_to_check(conn: Connection) -> list[str]:
    """Return every tenant's id (each one's thresholds are checked)."""
    rows = await conn.fetch("SELECT id FROM tenants ORDER BY id")
    return [row["id"] for row in rows]


async def raise_alert(conn: Connection, tenant_id: str, *, kind: str, channel: str,
                      severity: str, value: float, threshold: float, summary: str,
                      now: datetime) -> bool:
    """Open the alert, or note that its open one is still crossed at `now` (with the latest
    value); return True when it was opened now."""
    opened: bool = await conn.fetchval(
        """
        INSERT INTO ops_alerts (tenant_id, kind, channel, severity, value, threshold, summary,
                                opened_at, last_seen_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
        ON CONFLICT (tenant_id, kind, channel) WHERE resolved_at IS NULL
        DO UPDATE SET value = excluded.value, severity = excluded.severity,
                      threshold = excluded.threshold, summary = excluded.summary,
                      last_seen_at = excluded.last_seen_at
        RETURNING xmax = 0
        """,
        tenant_id, kind, channel, severity, value, threshold, summary, now,
    )
    return opened


async def resolve_cleared(conn: Connection, tenant_id: str, *, still: list[tuple[str, str]],
                          now: datetime) -> int:
    """Resolve at `now` the tenant's open alerts whose (kind, channel) is not in `still`;
    return how many."""
    kinds = [kind for kind, _ in still]
    channels = [channel for _, channel in still]
    rows = await conn.fetch(
        """
        UPDATE ops_alerts SET resolved_at = $4
        WHERE tenant_id = $1 AND resolved_at IS NULL
          AND (kind, channel) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))
        RETURNING id
        """,
        tenant_id, kinds, channels, now,
    )
    return len(rows)


async def open_alerts(conn: Connection, tenant_id: str) -> list[Alert]:
    """Return the tenant's open alerts, critical first, then oldest first."""
    rows = await conn.fetch(
        f"SELECT {_ALERT_COLUMNS} FROM ops_alerts "  # noqa: S608 - constant column list
        "WHERE tenant_id = $1 AND resolved_at IS NULL "
        "ORDER BY severity = 'critical' DESC, opened_at, id",
        tenant_id,
    )
    return [Alert(**row) for row in rows]


async def alerts_during(conn: Connection, tenant_id: str, start: datetime,
                        end: datetime) -> list[Alert]:
    """Return the tenant's alerts that were open at some instant of [start, end)."""
    rows = await conn.fetch(
        f"SELECT {_ALERT_COLUMNS} FROM ops_alerts "  # noqa: S608 - constant column list
        "WHERE tenant_id = $1 AND opened_at < $3 AND (resolved_at IS NULL OR resolved_at >= $2) "
        "ORDER BY opened_at, id",
        tenant_id, start, end,
    )
    return [Alert(**row) for row in rows]


# --- The daily digest's mail ------------------------------------------------------------


async def unmailed_digests(conn: Connection, tenant_id: str, *,
                           since: date) -> list[UnmailedDigest]:
    """Return the tenant's digests from `since` on that were not mailed yet, with the address
    to mail them to (none when the tenant has no operator address)."""
    rows = await conn.fetch(
        """
        SELECT d.day, d.summary, t.operator_email, t.name AS tenant_name
        FROM care_digests d JOIN tenants t ON t.id = d.tenant_id
        WHERE d.tenant_id = $1 AND d.mailed_at IS NULL AND d.day >= $2
          AND t.operator_email IS NOT NULL
        ORDER BY d.day
        """,
        tenant_id, since,
    )
    return [UnmailedDigest(**row) for row in rows]


async def record_digest_mail(conn: Connection, tenant_id: str, day: date, *, mail_id: UUID,
                             status: str, provider_ref: str | None, recipient: str,
                             subject: str, body: str, error: str | None,
                             now: datetime) -> None:
    """Record how the digest's delivery ended (the sandbox outbox shows it) and mark the digest
    mailed at `now`: a refusal is on the delivery row, and is not tried again."""
    await conn.execute(
        """
        INSERT INTO deliveries (tenant_id, message_id, channel, status, provider_ref, recipient,
                                subject, body, error, kind, created_at)
        VALUES ($1, $2, 'email', $3, $4, $5, $6, $7, $8, 'operator_digest', $9)
        ON CONFLICT (tenant_id, message_id) DO NOTHING
        """,
        tenant_id, mail_id, status, provider_ref, recipient, subject, body, error, now,
    )
    await conn.execute(
        "UPDATE care_digests SET mailed_at = $3 WHERE tenant_id = $1 AND day = $2",
        tenant_id, day, now)


# --- `fte up`'s one-click console sign-in -----------------------------------------------


async def store_sign_in_token(conn: Connection, tenant_id: str, *, token_hash: bytes,
                              now: datetime, expires_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO local_sign_in_tokens (token_hash, tenant_id, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4)",
        token_hash, tenant_id, now, expires_at,
    )


async def use_sign_in_token(conn: Connection, *, token_hash: bytes,
                            now: datetime) -> str | None:
    """Spend the token at `now`; return its tenant, or None when it is unknown, spent or
    expired (the token is the credential: its tenant is what it names)."""
    tenant_id: str | None = await conn.fetchval(
        """
        UPDATE local_sign_in_tokens SET used_at = $2
        WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
        RETURNING tenant_id
        """,
        token_hash, now,
    )
    return tenant_id


async def operator_email(conn: Connection, tenant_id: str) -> str | None:
    """Return where the tenant's daily digest is mailed (None: it is only stored)."""
    email: str | None = await conn.fetchval(
        "SELECT operator_email FROM tenants WHERE id = $1", tenant_id)
    return email


async def set_operator_email(conn: Connection, tenant_id: str, email: str | None) -> None:
    await conn.execute("UPDATE tenants SET operator_email = $2 WHERE id = $1", tenant_id, email)
