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

from datetime import datetime, timedelta

import asyncpg

from production.database.pool import Connection

Row = asyncpg.Record

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


async def channel_summary(conn: Connection, tenant_id: str, *, since: datetime,
                          until: datetime, channels: list[str]) -> list[Row]:
    """Return one row per channel in `channels` and one for all of them (channel '*'): the
    window's counts, average sentiment and first-response percentiles."""
    rows: list[Row] = await conn.fetch(
        f"""
        WITH {_WINDOW},
        touched AS (
            SELECT channel, conversation_id, direction FROM messages
            WHERE tenant_id = $1 AND created_at > $2 AND created_at <= $3
        )
        SELECT ch.channel,
               (SELECT count(DISTINCT t.conversation_id) FROM touched t
                WHERE ch.channel IN (t.channel, '*')) AS conversations,
               (SELECT count(*) FROM inbound i WHERE ch.channel IN (i.channel, '*'))
                   AS messages_in,
               (SELECT count(*) FROM touched t
                WHERE ch.channel IN (t.channel, '*') AND t.direction = 'outbound')
                   AS messages_out,
               (SELECT avg(i.sentiment)::float8 FROM inbound i
                WHERE ch.channel IN (i.channel, '*')) AS avg_sentiment,
               (SELECT count(*) FROM inbound i
                WHERE ch.channel IN (i.channel, '*') AND i.escalated) AS escalations,
               (SELECT count(*) FROM answered a WHERE ch.channel IN (a.channel, '*'))
                   AS answered,
               (SELECT count(*) FROM answered a
                WHERE ch.channel IN (a.channel, '*') AND a.automated) AS automated,
               (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a.stored_s) FROM answered a
                WHERE ch.channel IN (a.channel, '*')) AS first_response_p50_s,
               (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY a.stored_s) FROM answered a
                WHERE ch.channel IN (a.channel, '*')) AS first_response_p95_s,
               (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY a.delivered_s)
                FROM answered a WHERE ch.channel IN (a.channel, '*')) AS delivered_p95_s
        FROM unnest($4::text[] || '{{*}}'::text[]) AS ch(channel)
        """,  # noqa: S608 - the CTEs are constants, every value is a parameter
        tenant_id, since, until, channels,
    )
    return rows


async def series(conn: Connection, tenant_id: str, *, since: datetime, until: datetime,
                 step: timedelta) -> list[Row]:
    """Return one row per `step` from `since` to `until` (each at its end): the p95 first
    response per channel (jsonb), escalation and automation rates, dead letters, the inbound
    messages still waiting for the worker and the age of the oldest draft in the inbox."""
    rows: list[Row] = await conn.fetch(
        f"""
        WITH {_WINDOW},
        buckets AS (
            SELECT b AS start, b + $4::interval AS stop
            FROM generate_series($2::timestamptz, $3::timestamptz - $4::interval, $4::interval)
                 AS b
        ),
        dead AS ({_DEAD})
        SELECT b.stop AS at,
               (SELECT coalesce(jsonb_object_agg(x.channel, x.p95), '{{}}'::jsonb) FROM (
                    SELECT a.channel,
                           percentile_cont(0.95) WITHIN GROUP (ORDER BY a.stored_s) AS p95
                    FROM answered a WHERE a.created_at > b.start AND a.created_at <= b.stop
                    GROUP BY a.channel) x) AS first_response_p95_s,
               (SELECT count(*) FROM inbound i
                WHERE i.created_at > b.start AND i.created_at <= b.stop) AS messages_in,
               (SELECT count(*) FROM inbound i WHERE i.escalated
                  AND i.created_at > b.start AND i.created_at <= b.stop) AS escalations,
               (SELECT count(*) FROM answered a WHERE a.automated
                  AND a.created_at > b.start AND a.created_at <= b.stop) AS automated,
               (SELECT count(*) FROM dead d WHERE d.at > b.start AND d.at <= b.stop)
                   AS dead_letters,
               (SELECT count(*) FROM messages m
                WHERE m.tenant_id = $1 AND m.direction = 'inbound'
                  AND m.created_at > $2 - interval '1 day' AND m.created_at <= b.stop
                  AND (m.processed_at IS NULL OR m.processed_at > b.stop)) AS inbound_waiting,
               (SELECT extract(epoch FROM b.stop - min(p.created_at))::float8
                FROM care_proposals p
                WHERE p.tenant_id = $1 AND p.created_at <= b.stop
                  AND (p.decided_at IS NULL OR p.decided_at > b.stop)) AS oldest_draft_age_s
        FROM buckets b ORDER BY b.stop
        """,  # noqa: S608 - the CTEs are constants, every value is a parameter
        tenant_id, since, until, step,
    )
    return rows


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
