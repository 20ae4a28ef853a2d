"""`fte eval`: run labelled tickets through the pipeline and score the agent's decisions.

Scores: per escalation reason precision and recall, escalate-or-not precision and recall, the
answer rate (answerable tickets answered, not escalated), how often an answered ticket was
grounded in the expected knowledge-base topic, closings (a customer's thanks) closed without a
person, and replies over their channel's hard length limit; the headline figures also per
channel and per language (a ticket's optional `language` label).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from production.database.queries import tickets as tickets_q
from production.domain.escalation import REASONS
from production.domain.formatting import ChannelStyle, measure
from production.services import channel_styles
from production.services.ask import Question, run_question
from production.services.process_inbound import WorkerDeps

CHANNELS = ("email", "whatsapp", "web_form")
# The targets the sample set must meet (and `fte eval --check` enforces).
TARGET_RECALL = 0.95
TARGET_PRECISION = 0.90
TARGET_ANSWER_RATE = 0.90
TARGET_TOPIC_HIT = 0.85


@dataclass(frozen=True)
class LabelledTicket:
    id: str
    channel: str
    sender: str
    name: str | None
    subject: str | None
    message: str
    outcome: str  # "answer" or "escalate"
    topic: str | None = None
    reasons: tuple[str, ...] = ()
    language: str = "?"  # the label's language code; "?" when the file does not say
    kind: str | None = None  # e.g. how_to, closing, security_incident (free labels)

    @property
    def closing(self) -> bool:
        """A thank-you or "that worked": answered with no topic, never by a person."""
        return self.kind == "closing" or (self.outcome == "answer" and self.topic is None)


def load_tickets(path: Path) -> list[LabelledTicket]:
    """Read and validate a labelled ticket file; raise ValueError naming the bad ticket."""
    data = json.loads(path.read_text(encoding="utf-8"))
    tickets = []
    for raw in data["tickets"] if isinstance(data, dict) else data:
        ident = raw.get("id", "?")
        expected = raw.get("expected") or {}
        outcome = expected.get("outcome")
        if raw.get("channel") not in CHANNELS:
            raise ValueError(f"ticket {ident}: channel must be one of {', '.join(CHANNELS)}")
        if outcome not in ("answer", "escalate"):
            raise ValueError(f"ticket {ident}: expected.outcome must be answer or escalate")
        reasons = tuple(expected.get("reasons") or ())
        if unknown := [r for r in reasons if r not in REASONS]:
            raise ValueError(f"ticket {ident}: unknown reason code(s) {', '.join(unknown)}")
        if outcome == "escalate" and not reasons:
            raise ValueError(f"ticket {ident}: an escalate label needs its reasons")
        if not str(raw.get("message") or "").strip() or not raw.get("from"):
            raise ValueError(f"ticket {ident}: message and from are required")
        tickets.append(LabelledTicket(
            id=ident, channel=raw["channel"], sender=raw["from"], name=raw.get("name"),
            subject=raw.get("subject"), message=raw["message"], outcome=outcome,
            topic=expected.get("topic"), reasons=reasons,
            language=str(raw.get("language") or "?"), kind=raw.get("kind"),
        ))
    return tickets


@dataclass(frozen=True)
class TicketResult:
    ticket: LabelledTicket
    escalated: bool
    reasons: tuple[str, ...]
    topic: str | None
    reply: str
    length_violation: str | None
    resolved: bool = False  # the ticket ended resolved (the customer confirmed it)


@dataclass(frozen=True)
class Score:
    true_pos: int
    false_pos: int
    false_neg: int

    @property
    def precision(self) -> float:
        found = self.true_pos + self.false_pos
        return self.true_pos / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_pos + self.false_neg
        return self.true_pos / wanted if wanted else 1.0


@dataclass
class Report:
    results: list[TicketResult] = field(default_factory=list)

    def escalation(self) -> Score:
        return _score((r.ticket.outcome == "escalate", r.escalated) for r in self.results)

    def by_reason(self) -> dict[str, Score]:
        return {reason: _score((reason in r.ticket.reasons, reason in r.reasons)
                               for r in self.results) for reason in REASONS}

    def topic_hits(self) -> tuple[int, int]:
        """Return (questions answered from their expected topic, answerable questions).

        A closing has no topic (its figure is `closings`), so it counts on neither side; an
        answerable question that was escalated counts as a miss."""
        questions = [r for r in self.results
                     if r.ticket.outcome == "answer" and not r.ticket.closing]
        return sum(1 for r in questions if not r.escalated and r.topic == r.ticket.topic), \
            len(questions)

    def answered(self) -> tuple[int, int]:
        """Return (answerable tickets answered without a person, answerable tickets)."""
        answerable = [r for r in self.results if r.ticket.outcome == "answer"]
        return sum(1 for r in answerable if not r.escalated), len(answerable)

    def closings(self) -> tuple[int, int]:
        """Return (closings resolved without a person, closings)."""
        closings = [r for r in self.results if r.ticket.closing]
        return sum(1 for r in closings if not r.escalated and r.resolved), len(closings)

    def violations(self) -> list[TicketResult]:
        return [r for r in self.results if r.length_violation]

    def slices(self, key: Callable[[LabelledTicket], str]) -> dict[str, Report]:
        """Return one report per value of `key` (a channel, a language), in first-seen order."""
        groups: dict[str, Report] = {}
        for r in self.results:
            groups.setdefault(key(r.ticket), Report()).results.append(r)
        return groups

    def meets_targets(self) -> bool:
        score = self.escalation()
        closed, closings = self.closings()
        return (score.recall >= TARGET_RECALL and score.precision >= TARGET_PRECISION
                and _rate(self.answered(), 1.0) >= TARGET_ANSWER_RATE
                and _rate(self.topic_hits(), 1.0) >= TARGET_TOPIC_HIT
                and closed == closings and not self.violations())

    def headline(self) -> dict[str, Any]:
        """Return the figures a slice is judged by."""
        score = self.escalation()
        answered, answerable = self.answered()
        return {"tickets": len(self.results),
                "escalation": {"precision": round(score.precision, 4),
                               "recall": round(score.recall, 4)},
                "answer_rate": _rounded(self.answered()),
                "answered": answered, "answerable": answerable,
                "topic_hit_rate": _rounded(self.topic_hits())}

    def as_dict(self) -> dict[str, Any]:
        closed, closings = self.closings()
        return {
            **self.headline(),
            "reasons": {reason: {"precision": round(s.precision, 4), "recall": round(s.recall, 4),
                                 "expected": s.true_pos + s.false_neg,
                                 "predicted": s.true_pos + s.false_pos}
                        for reason, s in self.by_reason().items()},
            "closings": {"closed_without_person": closed, "total": closings},
            "length_violations": [{"id": r.ticket.id, "why": r.length_violation}
                                  for r in self.violations()],
            "by_channel": {k: v.headline() for k, v in self.slices(lambda t: t.channel).items()},
            "by_language": {k: v.headline()
                            for k, v in self.slices(lambda t: t.language).items()},
            "mistakes": [_mistake(r) for r in self.results if _wrong(r)],
            "meets_targets": self.meets_targets(),
        }


def _rate(pair: tuple[int, int], empty: float) -> float:
    hits, total = pair
    return hits / total if total else empty


def _rounded(pair: tuple[int, int]) -> float | None:
    return round(pair[0] / pair[1], 4) if pair[1] else None


def _score(pairs: Any) -> Score:
    tp = fp = fn = 0
    for expected, predicted in pairs:
        tp += expected and predicted
        fp += predicted and not expected
        fn += expected and not predicted
    return Score(tp, fp, fn)


def _wrong(r: TicketResult) -> bool:
    if r.ticket.outcome == "escalate":
        return not r.escalated
    return r.escalated or r.topic != r.ticket.topic


def _mistake(r: TicketResult) -> dict[str, Any]:
    expected = list(r.ticket.reasons) if r.ticket.outcome == "escalate" else r.ticket.topic
    got = list(r.reasons) if r.escalated else r.topic
    return {"id": r.ticket.id, "expected": expected, "got": got}


_PART = re.compile(r" \(part \d+\)$")


def base_topic(topic: str | None) -> str | None:
    """Return a passage title without its " (part N)" suffix: the topic it answers from."""
    return _PART.sub("", topic) if topic else None


def length_violation(reply: str, style: ChannelStyle) -> str | None:
    """Return why the reply breaks the channel's hard limit, or None."""
    size = measure(reply, style.length_unit)
    if size > style.max_length:
        return f"{size} {style.length_unit} exceeds {style.max_length}"
    return None


async def evaluate(deps: WorkerDeps, labelled: Sequence[LabelledTicket], *,
                   clock: Callable[[], datetime], tenant_id: str = "techcorp") -> Report:
    """Run every ticket through the pipeline, in file order (each at the instant `clock` reads
    when its turn comes, as the worker would), and score the results."""
    report = Report()
    for ticket in labelled:
        answer, outcome = await run_question(deps, Question(
            channel=ticket.channel,  # type: ignore[arg-type]  # validated by load_tickets
            sender=ticket.sender, message=ticket.message, subject=ticket.subject,
            name=ticket.name, tenant_id=tenant_id), clock=clock)
        async with deps.pool.acquire() as conn:
            style = await channel_styles.style_for(conn, tenant_id, ticket.channel)
            row = await tickets_q.get_by_number(conn, tenant_id, str(answer["ticket_id"]))
        reply = answer["reply"] or ""
        report.results.append(TicketResult(
            ticket=ticket, escalated=answer["escalated"],
            reasons=tuple(answer["escalation_reasons"]),
            topic=base_topic(outcome.kb_topic), reply=reply,
            length_violation=length_violation(reply, style),
            resolved=row is not None and row["status"] == "resolved",
        ))
    return report


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def render(report: Report) -> str:
    """Return the report as a table for people."""
    data = report.as_dict()
    closings = data["closings"]
    lines = [f"tickets: {data['tickets']}",
             f"escalation: precision {data['escalation']['precision']:.3f}  "
             f"recall {data['escalation']['recall']:.3f}  "
             f"(targets ≥ {TARGET_PRECISION:.2f} / ≥ {TARGET_RECALL:.2f})",
             f"answer rate on answerable tickets: {_fmt(data['answer_rate'])} "
             f"({data['answered']}/{data['answerable']}; target ≥ {TARGET_ANSWER_RATE:.2f})",
             f"answer topic hit rate: {_fmt(data['topic_hit_rate'])} "
             f"(target ≥ {TARGET_TOPIC_HIT:.2f})",
             f"closings closed without a person: {closings['closed_without_person']}/"
             f"{closings['total']}",
             f"length violations: {len(data['length_violations'])}"]
    lines += [f"  {v['id']}: {v['why']}" for v in data["length_violations"]]
    lines += ["", f"{'reason':<22}{'expected':>9}{'predicted':>10}{'precision':>11}{'recall':>8}"]
    for reason, s in data["reasons"].items():
        lines.append(f"{reason:<22}{s['expected']:>9}{s['predicted']:>10}"
                     f"{s['precision']:>11.3f}{s['recall']:>8.3f}")
    for title, group in (("channel", data["by_channel"]), ("language", data["by_language"])):
        lines += ["", f"{title:<10}{'tickets':>8}{'esc. P':>8}{'esc. R':>8}"
                      f"{'answered':>12}{'rate':>7}{'topic':>7}"]
        for name, h in group.items():
            lines.append(f"{name:<10}{h['tickets']:>8}{h['escalation']['precision']:>8.3f}"
                         f"{h['escalation']['recall']:>8.3f}"
                         f"{str(h['answered']) + '/' + str(h['answerable']):>12}"
                         f"{_fmt(h['answer_rate']):>7}{_fmt(h['topic_hit_rate']):>7}")
    if data["mistakes"]:
        lines += ["", f"mistakes ({len(data['mistakes'])}):"]
        lines += [f"  {m['id']}: expected {m['expected']}, got {m['got']}"
                  for m in data["mistakes"]]
    lines.append(f"targets met: {'yes' if data['meets_targets'] else 'NO'}")
    return "\n".join(lines)
