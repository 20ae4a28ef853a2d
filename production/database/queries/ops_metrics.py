"""The channel metrics the operators' view reads from the CRM (issue 17): per channel over a
window, as a time series, and the facts the threshold checks read.

Definitions, one place for all of them:
* an inbound message counts in the window its `created_at` (accepted) falls in, (since, until];
* first response: accepted -> the agent's reply stored (`first_response_*`), and accepted ->
  the reply delivered (`delivered_*`), in seconds;
* escalated: the run recorded `escalated` for the message in agent_metrics;
* automated: the reply went out (queued or delivered) with no person in between (no proposal
  in the approval inbox), is an answer (not the failure apology) and did not escalate;
* a dead letter: an inbound message that failed for good (the worker's DLQ, the customer got
  the apology) or a reply whose delivery failed for good (the dispatcher's);
* conversations: distinct conversations with a message on the channel in the window.

Every statement is one tenant's; `since`/`until` are the caller's instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from production.database.pool import Connection

# One CTE set for the summary and the series: the window's inbound messages, their reply and
# their flags. $1 tenant, $2 since, $3 until.
_WINDOW = """
    inbound AS (
        SELECT m.id, m.channel, m.conversation_id, m.created_at, m.sentiment,
               EXISTS (SELECT 1 FROM agent_metrics a
                       WHERE a.tenant_id = $1 AND a.message_id = m.id
                         AND a.metric_name = 'escalated' AND a.metric_value > 0) AS escalated
        FROM messages m
        WHERE m.tenant_id = $1 AND m.direction = 'inbound'
          AND m.created_at > $2 AND m.created_at <= $3
    ),
    answered AS (
        SELECT i.id, i.channel, i.created_at,
               extract(epoch FROM r.created_at - i.created_at)::float8 AS stored_s,
               extract(epoch FROM r.delivered_at - i.created_at)::float8 AS delivered_s,
               (r.status IN ('queued', 'delivered') AND NOT i.escalated
                AND coalesce(r.metadata->>'kind', 'reply') = 'reply'
                AND NOT EXISTS (SELECT 1 FROM care_proposals p
                                WHERE p.tenant_id = $1 AND p.message_id = r.id)) AS automated
        FROM inbound i
        JOIN messages r ON r.tenant_id = $1 AND r.in_reply_to = i.id AND r.role = 'agent'
    )
"""

# The window's dead letters, each with its channel and instant. $1 tenant, $2 since, $3 until.
_DEAD = """
    SELECT channel, processed_at AS at FROM messages
    WHERE tenant_id = $1 AND direction = 'inbound' AND status = 'failed'
      AND processed_at > $2 AND processed_at <= $3
    UNION ALL
    SELECT channel, created_at FROM deliveries
    WHERE tenant_id = $1 AND kind = 'reply' AND status = 'failed'
      AND created_at > $2 AND created_at <= $3
"""


# A row's step in a series: steps are (start, stop], like the window.
_STEP = "date_bin($4::interval, {} - interval '1 microsecond', $2::timestamptz)"


@dataclass(frozen=True)
class ChannelSummary:
    """One channel's figures over a window ('*': every channel)."""

    channel: str
    conversations: int
    messages_in: int
    messages_out: int
    avg_sentiment: float | None
    escalations: int
    answered: int
    automated: int
    first_response_p50_s: float | None
    first_response_p95_s: float | None
    delivered_p95_s: float | None


@dataclass(frozen=True)
class SeriesPoint:
    """One step of the time series, at its end."""

    at: datetime
    first_response_p95_s: dict[str, Any]
    messages_in: int
    escalations: int
    automated: int
    dead_letters: int
    inbound_waiting: int
    oldest_draft_age_s: float | None


async def channel_summary(conn: Connection, tenant_id: str, *, since: datetime,
                          until: datetime, channels: list[str]) -> list[ChannelSummary]:
    """Return one row per channel in `channels` and one for all of them (channel '*'): the
    window's counts, average sentiment and first-response percentiles."""
    rows = await conn.fetch(
        f"""
        WITH {_WINDOW},
        per_inbound AS (
            SELECT coalesce(channel, '*') AS channel, count(*) AS messages_in,
                   avg(sentiment)::float8 AS avg_sentiment,
                   count(*) FILTER (WHERE escalated) AS escalations
            FROM inbound GROUP BY GROUPING SETS ((channel), ())
        ),
        per_answer AS (
            SELECT coalesce(channel, '*') AS channel, count(*) AS answered,
                   count(*) FILTER (WHERE automated) AS automated,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY stored_s) AS p50,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY stored_s) AS p95,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY delivered_s) AS delivered_p95
            FROM answered GROUP BY GROUPING SETS ((channel), ())
        ),
        per_touch AS (
            SELECT coalesce(channel, '*') AS channel,
                   count(DISTINCT conversation_id) AS conversations,
                   count(*) FILTER (WHERE direction = 'outbound') AS messages_out
            FROM messages
            WHERE tenant_id = $1 AND created_at > $2 AND created_at <= $3
            GROUP BY GROUPING SETS ((channel), ())
        )
        SELECT ch.channel, coalesce(t.conversations, 0) AS conversations,
               coalesce(i.messages_in, 0) AS messages_in,
               coalesce(t.messages_out, 0) AS messages_out, i.avg_sentiment,
               coalesce(i.escalations, 0) AS escalations, coalesce(a.answered, 0) AS answered,
               coalesce(a.automated, 0) AS automated, a.p50 AS first_response_p50_s,
               a.p95 AS first_response_p95_s, a.delivered_p95 AS delivered_p95_s
        FROM unnest($4::text[] || '{{*}}'::text[]) WITH ORDINALITY AS ch(channel, place)
        LEFT JOIN per_inbound i USING (channel)
        LEFT JOIN per_answer a USING (channel)
        LEFT JOIN per_touch t USING (channel)
        ORDER BY ch.place
        """,  # noqa: S608 - the CTEs are constants, every value is a parameter
        tenant_id, since, until, channels,
    )
    return [ChannelSummary(**row) for row in rows]


async def series(conn: Connection, tenant_id: str, *, since: datetime, until: datetime,
                 step: timedelta) -> list[SeriesPoint]:
    """Return one row per `step` from `since` to `until` (each at its end): the p95 first
    response per channel (jsonb), escalation and automation rates, dead letters, the inbound
    messages still waiting for the worker and the age of the oldest draft in the inbox.

    Each row is counted once, in its step (no scan per step): waiting at a step's end is what
    waited at `since`, plus what arrived, minus what the worker finished, up to it."""
    rows = await conn.fetch(
        f"""
        WITH {_WINDOW},
        buckets AS (
            SELECT b AS start, b + $4::interval AS stop
            FROM generate_series($2::timestamptz, $3::timestamptz - $4::interval, $4::interval)
                 AS b
        ),
        dead AS ({_DEAD}),
        recent AS (
            SELECT created_at, processed_at FROM messages
            WHERE tenant_id = $1 AND direction = 'inbound'
              AND created_at > $2 - interval '1 day' AND created_at <= $3
              AND (processed_at IS NULL OR processed_at > $2)
        ),
        per_inbound AS (
            SELECT {_STEP.format("created_at")} AS start, count(*) AS messages_in,
                   count(*) FILTER (WHERE escalated) AS escalations
            FROM inbound GROUP BY 1
        ),
        per_answer AS (
            SELECT {_STEP.format("created_at")} AS start,
                   count(*) FILTER (WHERE automated) AS automated
            FROM answered GROUP BY 1
        ),
        per_p95 AS (
            SELECT start, jsonb_object_agg(channel, p95) AS p95 FROM (
                SELECT {_STEP.format("created_at")} AS start, channel,
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY stored_s) AS p95
                FROM answered GROUP BY 1, 2) x
            GROUP BY start
        ),
        per_dead AS (SELECT {_STEP.format("at")} AS start, count(*) AS n FROM dead GROUP BY 1),
        arrived AS (
            SELECT {_STEP.format("created_at")} AS start, count(*) AS n
            FROM recent WHERE created_at > $2 GROUP BY 1
        ),
        finished AS (
            SELECT {_STEP.format("processed_at")} AS start, count(*) AS n
            FROM recent WHERE processed_at <= $3 GROUP BY 1
        ),
        alive AS (
            SELECT created_at, decided_at FROM care_proposals
            WHERE tenant_id = $1 AND created_at <= $3
              AND (decided_at IS NULL OR decided_at > $2)
        )
        SELECT b.stop AS at, coalesce(p.p95, '{{}}'::jsonb) AS first_response_p95_s,
               coalesce(i.messages_in, 0) AS messages_in,
               coalesce(i.escalations, 0) AS escalations,
               coalesce(a.automated, 0) AS automated, coalesce(d.n, 0) AS dead_letters,
               ((SELECT count(*) FROM recent WHERE created_at <= $2)
                + sum(coalesce(ar.n, 0)) OVER upto - sum(coalesce(fi.n, 0)) OVER upto)::bigint
                   AS inbound_waiting,
               (SELECT extract(epoch FROM b.stop - min(al.created_at))::float8 FROM alive al
                WHERE al.created_at <= b.stop
                  AND (al.decided_at IS NULL OR al.decided_at > b.stop)) AS oldest_draft_age_s
        FROM buckets b
        LEFT JOIN per_inbound i USING (start)
        LEFT JOIN per_answer a USING (start)
        LEFT JOIN per_p95 p USING (start)
        LEFT JOIN per_dead d USING (start)
        LEFT JOIN arrived ar USING (start)
        LEFT JOIN finished fi USING (start)
        WINDOW upto AS (ORDER BY b.start)
        ORDER BY b.stop
        """,  # noqa: S608 - the CTEs are constants, every value is a parameter
        tenant_id, since, until, step,
    )
    return [SeriesPoint(**row) for row in rows]


async def dead_letters(conn: Connection, tenant_id: str, *, since: datetime,
                       until: datetime) -> dict[str, int]:
    """Return the dead letters of the window per channel."""
    rows = await conn.fetch(
        f"SELECT channel, count(*) AS n FROM ({_DEAD}) d GROUP BY channel",  # noqa: S608
        tenant_id, since, until,
    )
    return {row["channel"]: row["n"] for row in rows}


async def oldest_pending_draft(conn: Connection, tenant_id: str) -> datetime | None:
    """Return when the oldest draft still waiting in the tenant's inbox was proposed."""
    oldest: datetime | None = await conn.fetchval(
        "SELECT min(created_at) FROM care_proposals WHERE tenant_id = $1 AND status = 'pending'",
        tenant_id)
    return oldest
