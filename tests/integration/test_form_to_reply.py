"""The spine, end to end in one event loop: HTTP submit → outbox → Kafka → worker → agent →
gate → outbox → Kafka → dispatcher → reply visible on the ticket."""

from __future__ import annotations

import time

from prometheus_client import REGISTRY

from production.metrics import FIRST_RESPONSE
from tests.conftest import Stack, form, read_ticket, wait_for


def _responses(stage: str) -> float:
    """Return how many web form first responses this process observed at `stage`."""
    value = REGISTRY.get_sample_value(f"{FIRST_RESPONSE.name}_count",
                                      {"channel": "web_form", "stage": stage})
    return 0.0 if value is None else value


async def _reply_on(stack: Stack, ticket: str, token: str) -> list[dict[str, object]] | None:
    res = await read_ticket(stack.http, ticket, token)
    assert res.status_code == 200
    replies = [m for m in res.json()["messages"] if m["direction"] == "outbound"]
    return replies or None


async def test_submitted_form_gets_an_agent_reply_on_the_ticket(stack: Stack) -> None:
    observed = {stage: _responses(stage) for stage in ("stored", "delivered")}
    started = time.monotonic()
    res = await stack.http.post("/api/v1/support/form", json=form())
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["ticket_id"].startswith("TKT-")
    assert body["status"] == "open"

    replies = await wait_for(lambda: _reply_on(stack, body["ticket_id"], body["access_token"]),
                             timeout_s=10)
    elapsed = time.monotonic() - started
    assert elapsed < 10
    assert len(replies) == 1
    reply = replies[0]["content"]
    assert "password" in reply.lower()
    assert body["ticket_id"] in reply  # the web signature carries the ticket reference
    ticket = (await read_ticket(stack.http, body["ticket_id"], body["access_token"])).json()
    assert ticket["channel"] == "web_form"
    assert ticket["status"] == "waiting_customer"  # answered: the next word is the customer's
    assert ticket["category"] == "account"
    assert [m["direction"] for m in ticket["messages"]] == ["inbound", "outbound"]
    # Its first response was timed twice: the reply stored, then delivered (on the ticket).
    for stage in ("stored", "delivered"):
        async def timed(stage: str = stage) -> bool:
            return _responses(stage) > observed[stage]

        await wait_for(timed, timeout_s=5)
