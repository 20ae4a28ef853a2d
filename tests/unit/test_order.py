"""The tool order and budget of one ticket (`production.agent.order`), which the agent's tools
and the MCP server both apply."""

from __future__ import annotations

from production.agent.context import ToolCall
from production.agent.order import MAX_SEARCHES, MAX_TOOL_CALLS, PRERUN, refusal


def calls(*names: str, ok: bool = True) -> list[ToolCall]:
    return [ToolCall(name=name, arguments={}, ok=ok) for name in names]


def test_nothing_before_the_ticket() -> None:
    for name in ("get_customer_history", "escalate_to_human", "send_response"):
        assert refusal([], name) == "call create_ticket first"
    assert refusal([], "search_knowledge_base") == "call get_customer_history first"
    assert refusal([], "create_ticket") is None
    # A refused call does not count as done.
    assert refusal(calls("create_ticket", ok=False), "get_customer_history") == \
        "call create_ticket first"


def test_the_steps_before_the_model_satisfy_the_order() -> None:
    done = calls(*PRERUN)
    for name in ("search_knowledge_base", "escalate_to_human", "send_response",
                 "create_ticket", "get_customer_history"):
        assert refusal(done, name) is None, name


def test_a_reply_stands_on_a_search_or_an_escalation() -> None:
    ticket_and_history = calls("create_ticket", "get_customer_history")
    assert refusal(ticket_and_history, "send_response") == \
        "search the knowledge base (or escalate) before responding"
    assert refusal(ticket_and_history, "send_response", escalated=True) is None
    assert refusal(ticket_and_history + calls("escalate_to_human"), "send_response") is None
    assert refusal(ticket_and_history, "escalate_to_human") is None


def test_searches_and_calls_are_budgeted_but_a_reply_is_always_accepted() -> None:
    searched = calls("create_ticket", "get_customer_history",
                     *["search_knowledge_base"] * MAX_SEARCHES)
    assert refusal(searched, "search_knowledge_base") == \
        "search limit reached: answer from the results or escalate_to_human"
    # Refused searches do not use the search budget, but every call uses the call budget.
    retried = calls(*PRERUN) + calls("search_knowledge_base", ok=False)
    assert refusal(retried, "search_knowledge_base") is None
    full = calls(*PRERUN, *["get_customer_history"] * (MAX_TOOL_CALLS - len(PRERUN)))
    assert refusal(full, "get_customer_history") == \
        "tool budget used up: call escalate_to_human or send_response"
    assert refusal(full, "escalate_to_human") is None
    assert refusal(full, "send_response") is None
