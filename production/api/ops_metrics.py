"""/api/v1/metrics: the operators' view from the database, for a tenant's operator key.

`channels`: per channel and in total over a period (1h, 24h or 7d); `series`: the console's
Health page over the last hours; `alerts`: the open alerts the scheduler's threshold checks
recorded. Every number is the key's tenant's only; what each means is defined in
`database/queries/ops_metrics.py`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from production.api.admin.auth import Operator, keyed_router
from production.api.deps import Db, Now
from production.services import ops_health


class ChannelMetrics(BaseModel):
    conversations: int
    messages_in: int
    messages_out: int
    avg_sentiment: float | None = Field(description="0 (negative) to 1, inbound messages")
    escalations: int
    escalation_rate: float | None = Field(description="escalations / messages_in")
    answered: int
    automated: int
    automation_rate: float | None = Field(description="automated / messages_in")
    first_response_p50_s: float | None = Field(description="accepted -> reply stored")
    first_response_p95_s: float | None
    delivered_p95_s: float | None = Field(description="accepted -> reply delivered")


class ChannelReport(BaseModel):
    tenant_id: str
    period: str
    from_: datetime = Field(alias="from")
    until: datetime
    channels: dict[str, ChannelMetrics]
    totals: ChannelMetrics


class SeriesPoint(BaseModel):
    at: datetime = Field(description="the end of the step")
    first_response_p95_s: dict[str, float]
    messages_in: int
    escalation_rate: float | None
    automation_rate: float | None
    dead_letters: int
    inbound_waiting: int = Field(description="accepted, not yet processed by the worker")
    oldest_draft_age_s: float | None


class Series(BaseModel):
    tenant_id: str
    from_: datetime = Field(alias="from")
    until: datetime
    step_s: int
    channels: list[str]
    points: list[SeriesPoint]


class Alert(BaseModel):
    id: int
    kind: str
    channel: str | None
    severity: str
    value: float
    threshold: float
    summary: str
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


class AlertListing(BaseModel):
    alerts: list[Alert]


_keyed = keyed_router()


@_keyed.get("/channels", response_model=ChannelReport, response_model_by_alias=True)
async def channels(who: Operator, db: Db, now: Now, period: str = "24h") -> ChannelReport:
    """Per channel and in total: conversations, messages in and out, average sentiment,
    escalations and their rate, p50/p95 first response, automation rate (period: 1h, 24h or
    7d; another is 422)."""
    return ChannelReport.model_validate(await ops_health.channel_metrics(
        pool=db, tenant_id=who.tenant_id, period=period, now=now))


@_keyed.get("/series", response_model=Series, response_model_by_alias=True)
async def series(who: Operator, db: Db, now: Now,
                 hours: Annotated[int, Query()] = 6,
                 step_s: Annotated[int, Query()] = 300) -> Series:
    """One point per step over the last `hours`: p95 first response per channel, escalation
    and automation rates, dead letters, inbound messages waiting, the oldest draft's age."""
    return Series.model_validate(await ops_health.time_series(
        pool=db, tenant_id=who.tenant_id, hours=hours, step=timedelta(seconds=step_s), now=now))


@_keyed.get("/alerts", response_model=AlertListing)
async def alerts(who: Operator, db: Db) -> AlertListing:
    """The open alerts, critical first."""
    return AlertListing.model_validate(
        {"alerts": await ops_health.open_alerts(pool=db, tenant_id=who.tenant_id)})


router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"])
router.include_router(_keyed)
