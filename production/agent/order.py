"""The order the tools run in for one ticket, and its budget: one rule set, which the agent's
function tools and the MCP server both apply to the calls recorded so far.

create_ticket → get_customer_history → search_knowledge_base (at most twice) → escalate_to_human
and/or send_response. The first three need no judgement, so they run in code before the model
is called (`tools.prerun`), recorded like any call; the rules still refuse a call out of order,
whoever makes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from production.agent.context import ToolCall

# The steps that need no judgement, in order: run before the model, on the customer's words.
PRERUN = ("create_ticket", "get_customer_history", "search_knowledge_base")
# Tool calls of one ticket: the three steps, a second search, the reply, and slack for refused
# or repeated calls. Past it only escalate_to_human and send_response are accepted, so a run can
# always end well.
MAX_TOOL_CALLS = 8
# The first search on the customer's words, and one more with a query of the model's own.
MAX_SEARCHES = 2


def called(calls: Sequence[ToolCall], name: str) -> bool:
    """Return whether a call of the tool was accepted."""
    return any(c.name == name and c.ok for c in calls)


def searches(calls: Sequence[ToolCall]) -> int:
    """Return how many knowledge-base searches were accepted."""
    return sum(1 for c in calls if c.name == "search_knowledge_base" and c.ok)


def refusal(calls: Sequence[ToolCall], name: str, *, escalated: bool = False) -> str | None:
    """Return why a call of `name` is refused after `calls`, or None when it may run.

    `escalated`: a person must reply (the pre-screen said so, or the ticket was escalated), so
    a reply needs no search to stand on.
    """
    if name in ("escalate_to_human", "send_response"):
        if not called(calls, "create_ticket"):
            return "call create_ticket first"
        if name == "send_response" and not (searches(calls) or escalated
                                            or called(calls, "escalate_to_human")):
            return "search the knowledge base (or escalate) before responding"
        return None
    if len(calls) >= MAX_TOOL_CALLS:
        return "tool budget used up: call escalate_to_human or send_response"
    if name == "get_customer_history" and not called(calls, "create_ticket"):
        return "call create_ticket first"
    if name == "search_knowledge_base":
        if not called(calls, "get_customer_history"):
            return "call get_customer_history first"
        if searches(calls) >= MAX_SEARCHES:
            return "search limit reached: answer from the results or escalate_to_human"
    return None
