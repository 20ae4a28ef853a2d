"""`fte replay`: recorded (or labelled) inbound messages through the current agent, guardrails
and policy, compared with what happened then.

The caller runs it on a scratch database (`playground.replay`): nothing is sent, nothing in the
live database changes. Each message is a new customer there, so the agent sees no history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from production.clock import Clock
from production.database.queries.replay import RecordedInbound
from production.services import knowledge
from production.services.ask import Question, run_question
from production.services.evaluation import LabelledTicket, base_topic
from production.services.process_inbound import WorkerDeps

EXTRA_SOURCE = "replay-extra"  # the source name of the sections a replay adds


@dataclass(frozen=True)
class ReplayMessage:
    """One message to replay and its outcome then (`then_escalated` None: none recorded)."""

    id: str  # the ticket number, the message id, or the label's id
    channel: str
    sender: str
    message: str
    subject: str | None = None
    name: str | None = None
    then_escalated: bool | None = None
    then_reasons: tuple[str, ...] = ()
    then_topic: str | None = None


def from_recorded(row: RecordedInbound) -> ReplayMessage:
    """Return a stored inbound message as a replay message, with its stored outcome."""
    dims = row.dimensions or {}
    sender = row.sender_phone if row.channel == "whatsapp" else row.sender_email
    return ReplayMessage(
        id=row.ticket_number or row.message_id, channel=row.channel,
        sender=sender or f"replay-{row.message_id[:8]}@example.com", message=row.content,
        subject=row.subject, name=row.sender_name, then_escalated=row.escalated,
        then_reasons=tuple(dims.get("escalation_reasons") or ()),
        then_topic=base_topic(dims.get("kb_topic")))


def from_labelled(ticket: LabelledTicket) -> ReplayMessage:
    """Return a labelled ticket as a replay message: its label is what happened then."""
    return ReplayMessage(
        id=ticket.id, channel=ticket.channel, sender=ticket.sender, message=ticket.message,
        subject=ticket.subject, name=ticket.name,
        then_escalated=ticket.outcome == "escalate", then_reasons=ticket.reasons,
        then_topic=ticket.topic)


@dataclass(frozen=True)
class ReplayRow:
    message: ReplayMessage
    escalated: bool
    reasons: tuple[str, ...]
    topic: str | None
    policy: str | None  # the reply's status by policy now: queued, pending_approval, ...

    @property
    def change(self) -> str:
        then = self.message.then_escalated
        if then is None:
            return "new"
        if then == self.escalated:
            return "unchanged"
        return "answered→escalated" if self.escalated else "escalated→answered"

    def as_dict(self) -> dict[str, Any]:
        m = self.message
        return {"id": m.id, "channel": m.channel, "change": self.change,
                "then": None if m.then_escalated is None else _outcome(
                    m.then_escalated, m.then_reasons, m.then_topic),
                "now": {**_outcome(self.escalated, self.reasons, self.topic),
                        "policy": self.policy}}


def _outcome(escalated: bool, reasons: Sequence[str], topic: str | None) -> dict[str, Any]:
    return {"outcome": "escalated" if escalated else "answered", "reasons": list(reasons),
            "kb_topic": topic}


CHANGES = ("unchanged", "answered→escalated", "escalated→answered", "new")


@dataclass
class ReplayReport:
    rows: list[ReplayRow] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        counts = dict.fromkeys(CHANGES, 0)
        for row in self.rows:
            counts[row.change] += 1
        return {"messages": len(self.rows), **counts,
                "answered_now": sum(not r.escalated for r in self.rows),
                "escalated_now": sum(r.escalated for r in self.rows)}

    def lost_escalations(self) -> list[ReplayRow]:
        """Return the messages escalated then that would be answered now."""
        return [r for r in self.rows if r.change == "escalated→answered"]

    def as_dict(self) -> dict[str, Any]:
        return {"totals": self.totals(), "messages": [r.as_dict() for r in self.rows],
                "lost_escalations": [r.message.id for r in self.lost_escalations()]}


async def replay(deps: WorkerDeps, messages: Sequence[ReplayMessage], *, clock: Clock,
                 tenant_id: str = "techcorp",
                 extra_sections: Sequence[knowledge.Section] = ()) -> ReplayReport:
    """Add `extra_sections` to the knowledge base of `deps`' database, then run every message
    through the pipeline in order (each at the instant `clock` reads) and compare.

    `deps` must be on a scratch database: the replies are stored there like the worker's."""
    await knowledge.add_sections(pool=deps.pool, tenant_id=tenant_id, sections=extra_sections,
                                 embedder=deps.embedder, source=EXTRA_SOURCE)
    report = ReplayReport()
    for message in messages:
        answer, outcome = await run_question(deps, Question(
            channel=message.channel,  # type: ignore[arg-type]  # checked by the database
            sender=message.sender, message=message.message, subject=message.subject,
            name=message.name, tenant_id=tenant_id), clock=clock)
        report.rows.append(ReplayRow(
            message=message, escalated=bool(answer["escalated"]),
            reasons=tuple(answer["escalation_reasons"]), topic=base_topic(outcome.kb_topic),
            policy=answer["care_state"]["reply_status"]))
    return report


def _brief(escalated: bool | None, reasons: Sequence[str], topic: str | None) -> str:
    if escalated is None:
        return "-"
    if escalated:
        return "escalated (" + ", ".join(reasons) + ")"
    return f"answered [{topic}]" if topic else "answered"


def render(report: ReplayReport) -> str:
    """Return the report as a table for people: one line per message, then the totals."""
    lines = [f"{'message':<14}{'then':<40}{'now':<40}change"]
    for row in report.rows:
        m = row.message
        lines.append(f"{m.id:<14}{_brief(m.then_escalated, m.then_reasons, m.then_topic):<40}"
                     f"{_brief(row.escalated, row.reasons, row.topic):<40}{row.change}")
    totals = report.totals()
    lines += ["", "totals: " + ", ".join(f"{k} {v}" for k, v in totals.items())]
    if lost := report.lost_escalations():
        lines.append("escalations lost: " + ", ".join(r.message.id for r in lost))
    return "\n".join(lines)
