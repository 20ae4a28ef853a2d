"""A batch of customers' facts for the proactive layer, in a fixed number of set-based queries
whatever the batch's size (nine, each over `customer_id = ANY($2)` and the tenant's indexes).

Everything is read as of the caller's `now`: rows stamped after it are not seen, windows ("the
last 30 days") end at it. Merged customers' tombstones are not gathered (the sweep never asks
for them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from production.database.pool import Connection
from production.domain.proactive.facts import (
    CandidateFacts,
    CustomerFacts,
    InboundFacts,
    PriorHealth,
    ReplyFacts,
    TaskFacts,
    TicketFacts,
)

RECENT_MESSAGES = 10  # the last messages a customer's triggers read
RECENT_WITHIN = timedelta(days=30)
STATS_WITHIN = timedelta(days=90)
ANSWERED_WITHIN = timedelta(days=7)  # a reply answered within this counts as answered
FIRED_WITHIN = timedelta(days=31)  # the longest cooldown the registry needs to see
REPLY_TEXT = 600  # characters of the last reply: enough to tell a promise
SALES_REASON = "pricing_or_contract"




_BASE = """
SELECT c.id, c.created_at, coalesce(s.care_state, 'unaware') AS care_state,
       coalesce(s.escalation_status = 'open', false) AS escalation_open, s.last_signal_at,
       h.from_state, h.created_at AS state_changed_at,
       ch.score, ch.band, ch.churn_band, ch.computed_at, ch.trend
FROM unnest($2::uuid[]) AS u (id)
JOIN customers c ON c.tenant_id = $1 AND c.id = u.id
LEFT JOIN customer_care_state s
       ON s.tenant_id = $1 AND s.entity_type = 'contact' AND s.entity_id = c.id
LEFT JOIN LATERAL (
    SELECT x.from_state, x.created_at FROM customer_care_state_history x
    WHERE x.tenant_id = $1 AND x.entity_type = 'contact' AND x.entity_id = c.id
      AND x.created_at <= $3
    ORDER BY x.created_at DESC LIMIT 1) h ON true
LEFT JOIN LATERAL (  -- lateral: an index probe per customer whatever the table's statistics
    SELECT score, band, churn_band, computed_at, trend FROM customer_health
    WHERE tenant_id = $1 AND customer_id = c.id) ch ON true
"""

# "A reply the customer was sent" is an outbound message queued for or delivered to them.
# Per customer over 90 days: the last message, the last two months' counts, and our replies
# that were answered within a week (or had a week to be).
_STATS = """
SELECT customer_id,
       max(created_at) FILTER (WHERE direction = 'inbound') AS last_inbound_at,
       count(*) FILTER (WHERE direction = 'inbound' AND created_at > $3 - interval '30 days')
           AS inbound_30d,
       count(*) FILTER (WHERE direction = 'inbound' AND created_at <= $3 - interval '30 days'
                          AND created_at > $3 - interval '60 days') AS inbound_prev_30d,
       count(*) FILTER (WHERE sent AND (next_inbound_at <= created_at + $5::interval
                                        OR created_at <= $3 - $5::interval)) AS replies,
       count(*) FILTER (WHERE sent AND next_inbound_at <= created_at + $5::interval)
           AS answered
FROM (
    SELECT customer_id, direction, created_at,
           direction = 'outbound' AND status IN ('queued', 'delivered') AS sent,
           min(created_at) FILTER (WHERE direction = 'inbound') OVER (
               PARTITION BY customer_id ORDER BY created_at
               ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_inbound_at
    FROM messages
    WHERE tenant_id = $1 AND customer_id = ANY ($2::uuid[]) AND created_at > $4
      AND created_at <= $3) m
GROUP BY customer_id
"""

_LAST_REPLY = """
SELECT DISTINCT ON (customer_id) customer_id, id, created_at, role, left(content, $5) AS text
FROM messages
WHERE tenant_id = $1 AND customer_id = ANY ($2::uuid[])
  AND direction = 'outbound' AND status IN ('queued', 'delivered')
  AND created_at > $4 AND created_at <= $3
ORDER BY customer_id, created_at DESC
"""

# The last few messages from each customer: sentiment, topic (the ticket's category unless
# the default, else the knowledge-base passage the answer came from, else the subject) and
# whether the escalation detector read a pricing or contract question in it.
_RECENT = """
SELECT r.customer_id, r.id, r.created_at, r.sentiment,
       coalesce(nullif(t.category, 'general'), am.dimensions ->> 'kb_topic',
                lower(nullif(btrim(r.subject), ''))) AS topic,
       coalesce(am.dimensions -> 'escalation_reasons' ? $6, false) AS sales
FROM (SELECT id, customer_id, created_at, sentiment, subject, ticket_id,
             row_number() OVER (PARTITION BY customer_id ORDER BY created_at DESC) AS n
      FROM messages
      WHERE tenant_id = $1 AND customer_id = ANY ($2::uuid[]) AND direction = 'inbound'
        AND created_at > $4 AND created_at <= $3) r
LEFT JOIN tickets t ON t.tenant_id = $1 AND t.id = r.ticket_id
LEFT JOIN agent_metrics am
       ON am.tenant_id = $1 AND am.message_id = r.id AND am.metric_name = 'escalated'
WHERE r.n <= $5
ORDER BY r.customer_id, r.created_at, r.id
"""

_TICKETS = """
SELECT t.customer_id, t.id, t.ticket_number, t.priority, t.status, t.created_at,
       r.first_response_at, r.last_customer_at, r.last_response_at
FROM tickets t
LEFT JOIN LATERAL (
    SELECT min(m.created_at) FILTER (WHERE m.direction = 'outbound'
                                       AND m.status IN ('queued', 'delivered'))
               AS first_response_at,
           max(m.created_at) FILTER (WHERE m.direction = 'inbound') AS last_customer_at,
           max(m.created_at) FILTER (WHERE m.direction = 'outbound'
                                       AND m.status IN ('queued', 'delivered'))
               AS last_response_at
    FROM messages m
    WHERE m.tenant_id = $1 AND m.ticket_id = t.id AND m.created_at <= $3) r ON true
WHERE t.tenant_id = $1 AND t.customer_id = ANY ($2::uuid[])
  AND t.status NOT IN ('resolved', 'closed') AND t.created_at <= $3
ORDER BY t.customer_id, t.created_at, t.id
"""

_TASKS = """
SELECT customer_id, id, title, created_at, due_at FROM care_tasks
WHERE tenant_id = $1 AND customer_id = ANY ($2::uuid[]) AND kind = 'follow_up_task'
  AND status = 'open' AND created_at <= $3
ORDER BY customer_id, created_at, id
"""

_CANDIDATES = """
SELECT survivor_id AS customer_id, id, merged_id, created_at, reason FROM customer_merges
WHERE tenant_id = $1 AND survivor_id = ANY ($2::uuid[]) AND status = 'candidate'
  AND created_at <= $3
ORDER BY survivor_id, created_at, id
"""

_NEGATIVE = """
SELECT customer_id, count(*) AS n FROM care_proposals
WHERE tenant_id = $1 AND customer_id = ANY ($2::uuid[]) AND created_at > $4
  AND created_at <= $3
  AND (outcome = 'IDEA_REJECTED' OR response_outcome = 'NEGATIVE_RESPONSE')
GROUP BY customer_id
"""

_FIRED = """
SELECT u.id AS customer_id, f.trigger, f.at
FROM unnest($2::uuid[]) AS u (id)
CROSS JOIN LATERAL (
    SELECT trigger, max(fired_at) AS at FROM care_trigger_firings
    WHERE tenant_id = $1 AND customer_id = u.id AND fired_at > $4 AND fired_at <= $3
    GROUP BY trigger) f
"""


def _grouped(rows: Sequence[Any]) -> dict[UUID, list[Any]]:
    out: dict[UUID, list[Any]] = defaultdict(list)
    for row in rows:
        out[row["customer_id"]].append(row)
    return out


async def gather(conn: Connection, *, tenant_id: str, customer_ids: Sequence[UUID],
                 now: datetime) -> list[CustomerFacts]:
    """Return the facts of these customers of the tenant as of `now` (an id that is not the
    tenant's customer is left out)."""
    ids = list(customer_ids)
    if not ids:
        return []
    base = await conn.fetch(_BASE, tenant_id, ids, now)
    stats = {r["customer_id"]: r for r in await conn.fetch(
        _STATS, tenant_id, ids, now, now - STATS_WITHIN, ANSWERED_WITHIN)}
    replies = {r["customer_id"]: r for r in await conn.fetch(
        _LAST_REPLY, tenant_id, ids, now, now - STATS_WITHIN, REPLY_TEXT)}
    recent = _grouped(await conn.fetch(_RECENT, tenant_id, ids, now, now - RECENT_WITHIN,
                                       RECENT_MESSAGES, SALES_REASON))
    tickets = _grouped(await conn.fetch(_TICKETS, tenant_id, ids, now))
    tasks = _grouped(await conn.fetch(_TASKS, tenant_id, ids, now))
    candidates = _grouped(await conn.fetch(_CANDIDATES, tenant_id, ids, now))
    negative = {r["customer_id"]: r["n"] for r in await conn.fetch(
        _NEGATIVE, tenant_id, ids, now, now - STATS_WITHIN)}
    fired = _grouped(await conn.fetch(_FIRED, tenant_id, ids, now, now - FIRED_WITHIN))
    return [_facts(tenant_id, row, stats.get(row["id"]), replies.get(row["id"]),
                   recent.get(row["id"], []), tickets.get(row["id"], []),
                   tasks.get(row["id"], []), candidates.get(row["id"], []),
                   negative.get(row["id"], 0), fired.get(row["id"], []))
            for row in base]


def _facts(tenant_id: str, row: Any, stats: Any, reply: Any, recent: list[Any],
           tickets: list[Any], tasks: list[Any], candidates: list[Any], negative: int,
           fired: list[Any]) -> CustomerFacts:
    last_inbound = stats["last_inbound_at"] if stats is not None else None
    if last_inbound is None:  # nothing in 90 days: the state's last signal, if any
        last_inbound = row["last_signal_at"]
    seen: set[UUID] = set()
    messages = []
    for m in recent:
        if m["id"] not in seen:  # one row per message even if its metrics were stored twice
            seen.add(m["id"])
            messages.append(InboundFacts(message_id=m["id"], at=m["created_at"],
                                         sentiment=m["sentiment"], topic=m["topic"],
                                         sales_question=m["sales"]))
    return CustomerFacts(
        tenant_id=tenant_id, customer_id=row["id"], created_at=row["created_at"],
        care_state=row["care_state"], state_from=row["from_state"],
        state_changed_at=row["state_changed_at"], escalation_open=row["escalation_open"],
        last_inbound_at=last_inbound,
        inbound_30d=stats["inbound_30d"] if stats is not None else 0,
        inbound_prev_30d=stats["inbound_prev_30d"] if stats is not None else 0,
        replies_90d=stats["replies"] if stats is not None else 0,
        replies_answered_90d=stats["answered"] if stats is not None else 0,
        negative_outcomes_90d=negative,
        recent=tuple(messages),
        tickets=tuple(TicketFacts(
            ticket_id=t["id"], number=t["ticket_number"], priority=t["priority"],
            status=t["status"], created_at=t["created_at"],
            first_response_at=t["first_response_at"], last_customer_at=t["last_customer_at"],
            last_response_at=t["last_response_at"]) for t in tickets),
        tasks=tuple(TaskFacts(task_id=t["id"], title=t["title"], created_at=t["created_at"],
                              due_at=t["due_at"]) for t in tasks),
        last_reply=None if reply is None else ReplyFacts(
            message_id=reply["id"], at=reply["created_at"], role=reply["role"],
            text=reply["text"]),
        candidates=tuple(CandidateFacts(merge_id=c["id"], other_id=c["merged_id"],
                                        created_at=c["created_at"], reason=c["reason"])
                         for c in candidates),
        prior=None if row["score"] is None else PriorHealth(
            score=row["score"], band=row["band"], churn_band=row["churn_band"],
            computed_at=row["computed_at"], trend=row["trend"]),
        last_fired={f["trigger"]: f["at"] for f in fired},
    )
