"""The operators' view from the database: channel metrics over a period, a time series for the
console's Health page, and the constitution's threshold checks that record alerts, so that a
deployment without Prometheus still warns (issue 17, seeds US10).

What each number means is defined once, in `database/queries/ops_metrics.py`. Every function
takes the instant it decides at (`now`) from its caller.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from production.config import ALL_CHANNELS, Settings
from production.database.pool import Pool
from production.database.queries import ops_alerts, ops_metrics
from production.database.queries.ops_alerts import Alert
from production.database.queries.ops_metrics import ChannelSummary
from production.domain.errors import Invalid
from production.domain.ops_thresholds import ChannelFacts, Thresholds, evaluate

log = structlog.get_logger(__name__)

PERIODS: dict[str, timedelta] = {"1h": timedelta(hours=1), "24h": timedelta(hours=24),
                                 "7d": timedelta(days=7)}
# The Health page's series: at most this many hours back, in at least this fine steps.
MAX_SERIES_HOURS = 48
MIN_STEP = timedelta(minutes=1)
MAX_POINTS = 500


def period_of(name: str) -> timedelta:
    """Return the period called `name`; an unknown one is Invalid, listing the allowed."""
    if name not in PERIODS:
        raise Invalid([("period", f"must be one of {', '.join(PERIODS)}, not {name!r}")])
    return PERIODS[name]


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _channel_view(row: ChannelSummary) -> dict[str, Any]:
    messages_in, answered = row.messages_in, row.answered
    return {
        "conversations": row.conversations, "messages_in": messages_in,
        "messages_out": row.messages_out, "avg_sentiment": row.avg_sentiment,
        "escalations": row.escalations,
        "escalation_rate": _rate(row.escalations, messages_in),
        "answered": answered, "automated": row.automated,
        "automation_rate": _rate(row.automated, messages_in),
        "first_response_p50_s": row.first_response_p50_s,
        "first_response_p95_s": row.first_response_p95_s,
        "delivered_p95_s": row.delivered_p95_s,
    }


async def channel_metrics(*, pool: Pool, tenant_id: str, period: str,
                          now: datetime) -> dict[str, Any]:
    """Return the tenant's metrics per channel and in total over `period` up to `now`."""
    since = now - period_of(period)
    async with pool.acquire() as conn:
        rows = await ops_metrics.channel_summary(conn, tenant_id, since=since, until=now,
                                                 channels=list(ALL_CHANNELS))
    views = {row.channel: _channel_view(row) for row in rows}
    totals = views.pop("*")
    return {"tenant_id": tenant_id, "period": period, "from": since, "until": now,
            "channels": views, "totals": totals}


async def time_series(*, pool: Pool, tenant_id: str, hours: int, step: timedelta,
                      now: datetime) -> dict[str, Any]:
    """Return the Health page's series: one point per `step` over the last `hours` to `now`."""
    problems = []
    if not 1 <= hours <= MAX_SERIES_HOURS:
        problems.append(("hours", f"must be 1 to {MAX_SERIES_HOURS}"))
    if step < MIN_STEP or timedelta(hours=hours) / step > MAX_POINTS:
        problems.append(("step_s", f"must be at least {int(MIN_STEP.total_seconds())} s and "
                                   f"give at most {MAX_POINTS} points"))
    if problems:
        raise Invalid(problems)
    # Points on whole steps, so a page that polls sees the same buckets move, not jitter.
    step_s = int(step.total_seconds())
    until = datetime.fromtimestamp((int(now.timestamp()) // step_s + 1) * step_s, tz=now.tzinfo)
    since = until - timedelta(hours=hours)
    async with pool.acquire() as conn:
        rows = await ops_metrics.series(conn, tenant_id, since=since, until=until, step=step)
    points = [{
        "at": row.at,
        "first_response_p95_s": dict(row.first_response_p95_s),
        "messages_in": row.messages_in,
        "escalation_rate": _rate(row.escalations, row.messages_in),
        "automation_rate": _rate(row.automated, row.messages_in),
        "dead_letters": row.dead_letters,
        "inbound_waiting": row.inbound_waiting,
        "oldest_draft_age_s": row.oldest_draft_age_s,
    } for row in rows]
    return {"tenant_id": tenant_id, "from": since, "until": until, "step_s": step_s,
            "channels": list(ALL_CHANNELS), "points": points}


def thresholds(*, settings: Settings) -> Thresholds:
    return Thresholds(min_messages=settings.scheduler.alert_min_messages)


@dataclass(frozen=True)
class CheckResult:
    opened: int = 0
    still_open: int = 0
    resolved: int = 0


async def check_tenant(*, pool: Pool, settings: Settings, tenant_id: str,
                       now: datetime) -> CheckResult:
    """Check the tenant's thresholds at `now` and bring its alerts up to date: open what is
    newly crossed, note what stays crossed, resolve what cleared."""
    window = timedelta(seconds=settings.scheduler.alert_window_s)
    async with pool.acquire() as conn:
        rows = await ops_metrics.channel_summary(conn, tenant_id, since=now - window,
                                                 until=now, channels=list(ALL_CHANNELS))
        dead = await ops_metrics.dead_letters(conn, tenant_id, since=now - window, until=now)
        oldest = await ops_metrics.oldest_pending_draft(conn, tenant_id)
    facts = {row.channel: ChannelFacts(
        messages_in=row.messages_in, escalations=row.escalations,
        first_response_p95_s=row.first_response_p95_s,
        dead_letters=dead.get(row.channel, 0)) for row in rows if row.channel != "*"}
    findings = evaluate(facts, oldest_draft_at=oldest, now=now,
                        limits=thresholds(settings=settings), window=window)
    opened = 0
    async with pool.acquire() as conn, conn.transaction():
        for finding in findings:
            new = await ops_alerts.raise_alert(
                conn, tenant_id, kind=finding.kind, channel=finding.channel,
                severity=finding.severity, value=finding.value, threshold=finding.threshold,
                summary=finding.summary, now=now)
            if new:
                opened += 1
                log.warning("ops_alert_opened", tenant_id=tenant_id, kind=finding.kind,
                            channel=finding.channel, value=finding.value)
        resolved = await ops_alerts.resolve_cleared(
            conn, tenant_id, still=[(f.kind, f.channel) for f in findings], now=now)
    if resolved:
        log.info("ops_alerts_resolved", tenant_id=tenant_id, count=resolved)
    return CheckResult(opened=opened, still_open=len(findings) - opened, resolved=resolved)


async def check_all(*, pool: Pool, settings: Settings, now: datetime) -> CheckResult:
    """Check every tenant's thresholds at `now`; return the totals."""
    async with pool.acquire() as conn:
        tenants = await ops_alerts.tenants_to_check(conn)
    opened = still = resolved = 0
    for tenant_id in tenants:
        result = await check_tenant(pool=pool, settings=settings, tenant_id=tenant_id, now=now)
        opened, still = opened + result.opened, still + result.still_open
        resolved += result.resolved
    return CheckResult(opened, still, resolved)


def alert_view(row: Alert) -> dict[str, Any]:
    return {**asdict(row), "channel": row.channel or None}


async def open_alerts(*, pool: Pool, tenant_id: str) -> list[dict[str, Any]]:
    """Return the tenant's open alerts, critical first."""
    async with pool.acquire() as conn:
        return [alert_view(row) for row in await ops_alerts.open_alerts(conn, tenant_id)]
