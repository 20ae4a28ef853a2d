"""The "propose actions" mode, local and deterministic: from a firing's trigger and facts (and
what the pipeline gathered about the customer) to one proposed action, with its reason,
confidence, preview (a diff of what would change) and explanation.

Never a delete; every action is one AutoApprovalPolicyV1 decides (domain/care/policy.py):
internal notes, follow-up tasks and drafts are internal (autopilot may run them); a ticket's
priority, outreach and merges wait for a person. Ids (tickets, customers) always come from the
facts or the context, never from a model: `preview` and `propose` are shared with the OpenAI
proposer, which only words the action.

Facts read (each optional, as the triggers write them): `ticket_id`, `ticket_number`,
`priority`, `sla_event` (first_response, next_response, resolution), `due_at`, `promise`,
`topic`, `probability`, `band`, `state`, `candidate_id`, `survivor_id`, `duplicate_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from production.domain.care.policy import ActionKind, Topic
from production.domain.proactive.firing import TriggerName

SUGGESTED_ACTIONS: tuple[str, ...] = (
    ActionKind.INTERNAL_NOTE, ActionKind.FOLLOW_UP_TASK, ActionKind.CHANGE_TICKET,
    ActionKind.DRAFT, ActionKind.OUTBOUND_MESSAGE, ActionKind.MERGE_CUSTOMERS)
# What a person may still change when editing before approval, per action.
EDITABLE: dict[str, tuple[str, ...]] = {
    ActionKind.INTERNAL_NOTE: ("title", "body"),
    ActionKind.FOLLOW_UP_TASK: ("title", "body"),
    ActionKind.DRAFT: ("title", "body"),
    ActionKind.OUTBOUND_MESSAGE: ("title", "body"),
    ActionKind.CHANGE_TICKET: ("priority",),
    ActionKind.MERGE_CUSTOMERS: (),
}
PRIORITIES = ("low", "medium", "high", "urgent")


@dataclass(frozen=True)
class TicketView:
    id: str
    number: str
    priority: str
    status: str
    subject: str | None


@dataclass(frozen=True)
class Context:
    """What the pipeline gathered about the customer (fresh, at `now`)."""

    customer_name: str | None
    channel: str | None  # the channel of the customer's latest conversation
    tickets: tuple[TicketView, ...] = ()  # open tickets, oldest first


@dataclass(frozen=True)
class Proposal:
    action: str
    title: str
    body: str
    reason: str
    explanation: str
    confidence: float
    params: Mapping[str, Any] = field(default_factory=dict)
    topics: frozenset[Topic] = frozenset()
    tokens_used: int = 0  # what a model's proposal cost (the local proposer: none)

    @property
    def preview(self) -> list[dict[str, Any]]:
        return preview(self.action, title=self.title, body=self.body, params=self.params)


def preview(action: str, *, title: str, body: str,
            params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the diff the action would make: one {target, field, before, after} a change."""
    if action == ActionKind.CHANGE_TICKET:
        return [{"target": f"ticket {params.get('ticket_number', '')}".strip(),
                 "field": "priority", "before": params.get("before"),
                 "after": params.get("priority")}]
    if action == ActionKind.MERGE_CUSTOMERS:
        return [{"target": "customer", "field": "merged_into",
                 "before": None, "after": params.get("survivor_id")}]
    channel = params.get("channel") or "their channel"
    target: dict[str, str] = {
        ActionKind.INTERNAL_NOTE: "internal note", ActionKind.FOLLOW_UP_TASK: "task",
        ActionKind.DRAFT: "draft reply (not sent)",
        ActionKind.OUTBOUND_MESSAGE: f"message to the customer via {channel}"}
    return [{"target": target.get(action, action), "field": "title", "before": None,
             "after": title},
            {"target": target.get(action, action), "field": "body", "before": None,
             "after": body}]


def _ticket(facts: Mapping[str, Any], context: Context) -> TicketView | None:
    wanted = str(facts.get("ticket_id") or "")
    number = str(facts.get("ticket_number") or "")
    for ticket in context.tickets:
        if ticket.id == wanted or (number and ticket.number == number):
            return ticket
    return None if wanted or number else (context.tickets[0] if context.tickets else None)


def _raised(priority: str) -> str | None:
    if priority not in PRIORITIES or priority == PRIORITIES[-1]:
        return None
    return PRIORITIES[PRIORITIES.index(priority) + 1]


def _stalled(facts: Mapping[str, Any], reason: str, who: str, context: Context) -> Proposal:
    ticket = _ticket(facts, context)
    number = ticket.number if ticket else str(facts.get("ticket_number") or "the ticket")
    priority = ticket.priority if ticket else str(facts.get("priority") or "medium")
    event = str(facts.get("sla_event") or facts.get("event") or "first_response")
    raised = _raised(priority)
    if event == "resolution" and ticket is not None and raised is not None:
        return Proposal(
            ActionKind.CHANGE_TICKET, f"Raise {number} to {raised}",
            f"{number} missed its resolution time at {priority} priority.", reason,
            f"The resolution time of {number} passed: at {raised} priority it comes first "
            "in the team's queue. Changing a ticket's priority waits for a person.", 0.75,
            {"ticket_id": ticket.id, "ticket_number": number, "before": priority,
             "priority": raised})
    words = event.replace("_", " ")
    return Proposal(
        ActionKind.FOLLOW_UP_TASK, f"Answer {number} for {who}: {words} overdue",
        f"{reason}. Reply to {who} on {number} ({priority} priority), or say when they will "
        "hear from us.", reason,
        f"The {words} time of {number} passed with nobody answering: a task puts it in front "
        "of the team. A task is internal; autopilot may create it.",
        0.9 if priority in ("high", "urgent") else 0.8,
        {"ticket_id": ticket.id if ticket else facts.get("ticket_id"), "ticket_number": number})


def _outreach(trigger: str, reason: str, who: str, context: Context,
              confidence: float) -> Proposal:
    greeting = f"Hello {who}," if who != "the customer" else "Hello,"
    if trigger == TriggerName.CHURN_RISK:
        text = (f"{greeting}\n\nI wanted to check in: is TechCorp Cloud doing what you need? "
                "If anything is getting in your way, reply here and I will make sure the right "
                "person looks at it.")
    else:
        text = (f"{greeting}\n\nIt has been a while since we last heard from you. Is there "
                "anything we can help you with? Reply here any time.")
    return Proposal(
        ActionKind.OUTBOUND_MESSAGE, f"Check in with {who}", text, reason,
        "A message the customer did not ask for: it is never sent without a person, and then "
        "only when every C.A.R.E. gate holds.", confidence,
        {"channel": context.channel})


def propose(*, trigger: str, reason: str, facts: Mapping[str, Any],
            context: Context) -> Proposal:
    """Return the action the local model proposes for this firing."""
    who = context.customer_name or "the customer"
    if trigger == TriggerName.STALLED_TICKET:
        return _stalled(facts, reason, who, context)
    if trigger == TriggerName.PROMISE_NOT_KEPT:
        promise = str(facts.get("promise") or "a follow-up")
        return Proposal(
            ActionKind.FOLLOW_UP_TASK, f"Keep the promise to {who}",
            f"We promised {promise} and it has not happened. {reason}.", reason,
            "A promise that is not kept costs more trust than one never made: a task for the "
            "team, internal, which autopilot may create.", 0.85, {})
    if trigger == TriggerName.SENTIMENT_FALLING:
        return Proposal(
            ActionKind.INTERNAL_NOTE, f"{who}'s mood is falling",
            f"{reason}. Read the last messages before the next reply; a person may want to "
            "take over.", reason,
            "A note for whoever answers next; it is internal and autopilot may write it.", 0.6,
            {})
    if trigger == TriggerName.REPEAT_CONTACT:
        topic = str(facts.get("topic") or "the same topic")
        return Proposal(
            ActionKind.DRAFT, f"One complete answer for {who} about {topic}",
            f"Hello {who},\n\nYou have written to us several times about {topic}. Here is "
            "everything in one place: [complete the answer]. If this does not solve it, reply "
            "and a specialist will call you.", reason,
            "A draft for a person to complete and send: it is written, not sent.", 0.7,
            {"topic": topic})
    if trigger in (TriggerName.CHURN_RISK, TriggerName.SILENCE):
        return _outreach(trigger, reason, who, context,
                         0.65 if trigger == TriggerName.CHURN_RISK else 0.5)
    if trigger == TriggerName.REACTIVATED:
        return Proposal(
            ActionKind.INTERNAL_NOTE, f"{who} is back", f"{reason}. Welcome them back; check "
            "what changed since they went quiet.", reason,
            "A note for the team; internal.", 0.6, {})
    if trigger == TriggerName.DUPLICATE_CUSTOMER and facts.get("survivor_id") \
            and facts.get("duplicate_id"):
        return Proposal(
            ActionKind.MERGE_CUSTOMERS, f"Merge a duplicate of {who}", reason, reason,
            "Two customer records look like one person. Merging moves everything to one record "
            "and cannot be undone by the FTE: a person decides.",
            float(facts.get("score") or 0.7),
            {"survivor_id": str(facts["survivor_id"]), "merged_id": str(facts["duplicate_id"]),
             "candidate_id": facts.get("candidate_id")})
    if trigger == TriggerName.SALES_SIGNAL:
        return Proposal(
            ActionKind.FOLLOW_UP_TASK, f"Sales: {who} asked about pricing or a contract",
            f"{reason}. A person from sales answers; the FTE does not.", reason,
            "Pricing and contracts are for people only, in every autonomy mode.", 0.8, {},
            frozenset({Topic.PRICING, Topic.CONTRACT}))
    return Proposal(
        ActionKind.INTERNAL_NOTE, f"{trigger.replace('_', ' ').capitalize()}: {who}", reason,
        reason, "A note for the team about what the trigger saw; internal.", 0.4, {})
