"""What the five tools do, once: the Agents SDK function tools and the MCP server both call these.

Each operation takes the database pool and the tenant explicitly, so it can run inside an agent
run (the function tools fill the arguments from the run context) or for an MCP client (which
passes them as tool arguments).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from production.agent import rerank
from production.agent.subjects import asked_about
from production.database.pool import Pool
from production.database.queries import care_state, messages, reference, tickets
from production.embeddings import Embedder

MAX_KB_RESULTS = 5
# Cosine similarity (0..1) under which a passage is a weak match, treated as no match. First
# measured with all-MiniLM-L6-v2 (0.32); with USE multilingual v3 on context/sample-tickets.json
# 0.25 / 0.22 / 0.20 gave escalation precision 0.933 / 0.965 / 1.000 at recall 1.000 / 0.982 /
# 0.982; with the BM25 re-ranker, 0.20 answers every answerable ticket (0.976 at 0.22: terse
# WhatsApp lines such as "how do i stop techcorp pinging me at 11pm" best match at 0.21) and
# keeps precision 1.000, recall 0.982. A full-text match does not lower it: the terms a
# question shares with a wrong passage are common words.
MIN_SIMILARITY = 0.20

CATEGORIES = ("general", "technical", "billing", "account", "feedback", "bug_report")
PRIORITIES = ("low", "medium", "high", "urgent")
CHANNEL_NAMES = {"email": "email", "whatsapp": "WhatsApp", "web_form": "our web form"}


@dataclass(frozen=True)
class TicketRef:
    id: UUID
    number: str


async def open_ticket(
    pool: Pool, tenant_id: str, *, customer_id: UUID, conversation_id: UUID, channel: str,
    message_id: UUID, subject: str, category: str = "general", priority: str = "medium",
) -> TicketRef:
    """Open the ticket for a message (a second call for the same message returns the first)."""
    async with pool.acquire() as conn, conn.transaction():
        ticket_id, number, _ = await tickets.create(
            conn, tenant_id, customer_id=customer_id, conversation_id=conversation_id,
            source_channel=channel, source_message_id=message_id, subject=subject[:300],
            category=category if category in CATEGORIES else "general",
            priority=priority if priority in PRIORITIES else "medium",
        )
        await messages.set_ticket(conn, tenant_id, message_id, ticket_id)
    return TicketRef(id=ticket_id, number=number)


async def customer_history(
    pool: Pool, tenant_id: str, customer_id: UUID, *, current_message_id: UUID | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Return the customer's latest messages on every channel, oldest first."""
    async with pool.acquire() as conn:
        rows = await messages.customer_history(conn, tenant_id, customer_id, limit=limit)
    return [
        {
            "channel": row.channel,
            "direction": row.direction,
            "subject": row.subject,
            "content": row.content[:500],
            "at": row.created_at.isoformat(),
            "current": row.id == current_message_id,
        }
        for row in rows
    ]


async def search_knowledge(
    pool: Pool, tenant_id: str, embedder: Embedder, query: str, *, limit: int = MAX_KB_RESULTS
) -> list[dict[str, Any]]:
    """Hybrid search (vector + full-text), re-ranked (`rerank`); weak matches are dropped."""
    [vector] = await embedder.embed([query])
    async with pool.acquire() as conn:
        rows = await reference.search_knowledge(
            conn, tenant_id, query, vector, model=embedder.name, limit=rerank.CANDIDATES)
    return [
        {
            "title": row.title,
            "category": row.category,
            "content": row.content[:1500],
            "score": round(score, 4),
            "similarity": round(row.similarity or 0.0, 4),
        }
        for score, row in await rerank.rerank(embedder, vector, rows, query=query)
        if (row.similarity or 0.0) >= MIN_SIMILARITY
    ][:limit]


async def uncovered_subjects(pool: Pool, tenant_id: str, text: str) -> list[str]:
    """Return what the text asks the product to have that the knowledge base never mentions.

    "Do you have a mind map view?" lands close to the views passage by similarity; the
    knowledge base not mentioning a mind map anywhere is what says there is no answer.
    """
    subjects = asked_about(text)
    if not subjects:
        return []
    async with pool.acquire() as conn:
        return await reference.uncovered_subjects(
            conn, tenant_id, [s.phrase for s in subjects], [s.exact for s in subjects])


async def escalate_ticket(pool: Pool, tenant_id: str, ticket_number: str, reason: str, *,
                          now: datetime) -> bool:
    """Mark a ticket escalated with its reason and open the customer's C.A.R.E. escalation,
    which halts autonomy for them until a person closes it (both audited at `now`); False if
    there is no such ticket."""
    async with pool.acquire() as conn, conn.transaction():
        customer_id = await tickets.escalate(conn, tenant_id, ticket_number, reason, now=now)
        if customer_id is None:
            return False
        await care_state.open_escalation(conn, tenant_id, customer_id, reason, actor="fte-mcp",
                                         now=now)
        return True


def earlier_contact(history: Sequence[dict[str, Any]], channel: str, now: datetime) -> str | None:
    """Return a sentence acknowledging the customer's previous message, if there was one."""
    earlier = [m for m in history if not m.get("current") and m.get("direction") == "inbound"]
    if not earlier:
        return None
    last = earlier[-1]
    topic = (last.get("subject") or _first_sentence(str(last.get("content", ""))))[:80]
    when = _relative(datetime.fromisoformat(str(last["at"])), now)
    via = "" if last.get("channel") == channel else \
        f" via {CHANNEL_NAMES.get(str(last.get('channel')), str(last.get('channel')))}"
    return f'I see you contacted us about "{topic.strip()}" {when}{via}.'


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    for mark in (". ", "? ", "! ", "\n"):
        if mark in text:
            text = text.split(mark, 1)[0]
    return text


def _relative(then: datetime, now: datetime) -> str:
    days = (now.date() - then.date()).days
    if days <= 0:
        return "earlier today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    if days < 14:
        return "last week"
    return f"on {then:%B} {then.day}"
