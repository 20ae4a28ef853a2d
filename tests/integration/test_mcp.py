"""The MCP server as a client sees it: the real server in a subprocess over stdio, the official
MCP client, and the results checked in PostgreSQL.

The module has a database of its own (`isolated_settings`): the session database is swept by the
running stack's sweeper, which would hand a ticket's message to the worker's agent while the
MCP client is still working on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import mcp_types as types
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.session import IncomingMessage
from mcp.client.streamable_http import streamable_http_client

from production.config import Settings
from production.database.pool import Pool
from production.database.queries import care_state
from production.local_stack import free_port
from tests.conftest import ROOT, child_env, unique_email, wait_for
from tests.integration.care_world import care_db

TOOLS = {"create_ticket", "get_customer_history", "search_knowledge_base", "escalate_to_human",
         "send_response"}


@contextlib.asynccontextmanager
async def mcp_client(settings: Settings, **env: str) -> AsyncIterator[ClientSession]:
    """Start `python -m production.mcp_server` on the test database and connect to it."""
    faults: list[Exception] = []

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, Exception):  # e.g. a stray line on the server's stdout
            faults.append(message)

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "production.mcp_server"],
        env=child_env(settings, **env), cwd=ROOT,
    )
    async with stdio_client(params) as (read, write), \
            ClientSession(read, write, message_handler=on_message,
                          read_timeout_seconds=60) as session:
        await session.initialize()
        yield session
    assert faults == [], f"the server wrote something that is not MCP to stdout: {faults}"


async def call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured result."""
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, _text(result)
    assert result.structured_content is not None
    return result.structured_content


async def call_error(session: ClientSession, tool: str, **arguments: Any) -> str:
    """Call a tool that must fail; return the error text the client sees."""
    result = await session.call_tool(tool, arguments)
    assert result.is_error, f"{tool} accepted {arguments}: {result.structured_content}"
    return _text(result)


def _text(result: types.CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, types.TextContent))


# A database of its own (see the module docstring), shared by this module's tests.
mcp_db = care_db("mcp", max_size=2)


OBSERVE_ONLY = {"CARE_AUTONOMY_ENABLED": "false", "CARE_SHADOW_MODE": "true"}


async def counts(pool: Pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        return {table: await conn.fetchval(f"SELECT count(*) FROM {table}")
                for table in ("customers", "customer_identifiers", "messages", "tickets",
                              "care_audit", "outbox")}


async def test_a_client_lists_the_five_tools_and_runs_a_ticket_through_them(
    mcp_db: tuple[Settings, Pool]
) -> None:
    settings, pool = mcp_db
    email = unique_email("mcp")
    async with mcp_client(settings) as session:
        listed = (await session.list_tools()).tools
        assert {t.name for t in listed} == TOOLS and len(listed) == 5
        schemas = {t.name: t.input_schema for t in listed}
        for tool in listed:
            assert tool.description and tool.output_schema, tool.name
            assert "ctx" not in tool.input_schema["properties"], tool.name
        create = schemas["create_ticket"]
        assert create["required"] == ["channel", "message"]
        assert create["properties"]["channel"]["enum"] == ["email", "whatsapp", "web_form"]
        assert create["properties"]["category"]["enum"][0] == "general"
        assert create["properties"]["priority"]["default"] == "medium"
        assert "human_request" in schemas["escalate_to_human"]["properties"]["reason"]["enum"]
        assert schemas["send_response"]["properties"]["ticket_id"]["pattern"] == r"^TKT-[0-9]+$"
        assert schemas["search_knowledge_base"]["properties"]["limit"]["default"] == 5
        assert "ticket_id" not in schemas["search_knowledge_base"].get("required", [])

        created = await call(
            session, "create_ticket", channel="email", customer_email=email,
            customer_name="Ada Lovelace", subject="Password reset",
            message="Hi, how do I reset my password? The reset link never arrives.",
            category="account", priority="high")
        number = created["ticket_id"]
        assert number.startswith("TKT-")
        # The steps that need no judgement came with the ticket: no round trip for them.
        assert [m["direction"] for m in created["history"]] == ["inbound"]
        assert created["acknowledge"] is None  # the customer never wrote before
        first = created["knowledge"]["results"]
        assert first and "password" in first[0]["title"].lower(), first[0]["title"]

        history = await call(session, "get_customer_history", customer_email=email.upper())
        assert history["customer_id"] == created["customer_id"]
        assert [m["direction"] for m in history["messages"]] == ["inbound"]
        assert "reset my password" in history["messages"][0]["content"]

        found = await call(session, "search_knowledge_base", query="How do I reset my password?")
        assert found["results"], "the knowledge base returned nothing for a password reset"
        assert "password" in found["results"][0]["title"].lower(), found["results"][0]["title"]
        # A search as a step of the ticket: recorded, and the ticket allows one more only.
        again = await call(session, "search_knowledge_base", query="reset link email",
                           ticket_id=number)
        assert again["results"]
        assert "search limit reached" in await call_error(
            session, "search_knowledge_base", query="password", ticket_id=number)

        escalated = await call(session, "escalate_to_human", ticket_id=number,
                               reason="human_request")
        assert escalated == {"ticket_id": number, "status": "escalated",
                             "reason": "human_request"}

        sent = await call(session, "send_response", ticket_id=number,
                          message="Use 'Forgot password' on the sign-in page; a specialist "
                                  "will also follow up.")
        # The escalation opened by escalate_to_human halts autonomy for the customer: the
        # reply waits in the approval inbox for a person.
        assert sent["status"] == "pending_approval"
        again = await call(session, "send_response", ticket_id=number, message="Second reply.")
        assert again["status"] == "already_answered"

        async with pool.acquire() as conn:
            ticket = await conn.fetchrow(
                "SELECT id, status, escalation_reason, category, priority, source_channel, "
                "source_message_id FROM tickets WHERE tenant_id = 'techcorp' "
                "AND ticket_number = $1", number)
            inbound = await conn.fetchrow(
                "SELECT status, ticket_id, external_id, metadata, tool_calls FROM messages "
                "WHERE id = $1",
                ticket["source_message_id"])
            replies = await conn.fetch(
                "SELECT status, content, channel FROM messages WHERE tenant_id = 'techcorp' "
                "AND in_reply_to = $1 AND role = 'agent'", ticket["source_message_id"])
            audit = await conn.fetch(
                "SELECT a.event_type, a.actor, a.reason FROM care_audit a "
                "LEFT JOIN messages r ON r.id = a.message_id "
                "WHERE a.tenant_id = 'techcorp' AND (a.message_id = $1 OR r.in_reply_to = $1) "
                "ORDER BY a.id", ticket["source_message_id"])
        assert str(ticket["source_message_id"]) == created["message_id"]
        assert (ticket["status"], ticket["escalation_reason"]) == ("escalated", "human_request")
        assert (ticket["category"], ticket["priority"], ticket["source_channel"]) == \
            ("account", "high", "email")
        assert inbound["ticket_id"] == ticket["id"] and inbound["status"] == "processed"
        assert inbound["external_id"].startswith("mcp-")
        assert inbound["metadata"] == {"source": "mcp"}
        assert len(replies) == 1
        assert replies[0]["status"] == sent["status"] and replies[0]["channel"] == "email"
        # The ticket's calls in order, the first three run by the server with create_ticket.
        assert [(c["name"], c["by"], c["ok"]) for c in inbound["tool_calls"]] == [
            ("create_ticket", "code", True), ("get_customer_history", "code", True),
            ("search_knowledge_base", "code", True), ("search_knowledge_base", "model", True),
            ("escalate_to_human", "model", True), ("send_response", "model", True)]
        assert inbound["tool_calls"][0]["arguments"] == {
            "subject": "Password reset", "category": "account", "priority": "high"}
        assert "Forgot password" in replies[0]["content"]
        assert number in replies[0]["content"]  # formatted in the channel's voice
        assert [(a["event_type"], a["actor"], a["reason"]) for a in audit] == [
            ("would_escalate", "fte-mcp", "human_request"),
            ("would_execute_action", "fte-agent", "an escalation is open for this customer")]
        async with pool.acquire() as conn:
            care = await care_state.get_current_state(conn, "techcorp",
                                                      uuid.UUID(created["customer_id"]))
        assert care.escalation_open


# create_ticket arguments a client may get wrong, and what the error must mention.
BAD_CREATE: list[tuple[dict[str, Any], str]] = [
    ({"channel": "fax", "customer_email": "a@example.com", "message": "hi"}, "channel"),
    ({"channel": "email", "message": "Where is my invoice?"}, "customer_email or customer_phone"),
    ({"channel": "email", "customer_email": "not-an-address", "message": "hi"},
     "not a valid email"),
    ({"channel": "whatsapp", "customer_phone": "12", "message": "hi"}, "not a valid phone"),
    ({"channel": "whatsapp", "customer_email": "a@example.com", "message": "hi"},
     "needs customer_phone"),
    ({"channel": "email", "customer_email": "a@example.com", "message": "   "}, "message"),
    ({"channel": "email", "customer_email": "a@example.com", "message": "hi",
      "category": "sales"}, "category must be one of"),
]


async def test_bad_input_is_an_error_and_writes_nothing_and_observe_only_holds_replies(
    mcp_db: tuple[Settings, Pool]
) -> None:
    settings, pool = mcp_db
    async with mcp_client(settings, **OBSERVE_ONLY) as session:
        before = await counts(pool)
        for arguments, expected in BAD_CREATE:
            error = await call_error(session, "create_ticket", **arguments)
            assert expected in error, (arguments, error)
        assert "no customer" in await call_error(
            session, "get_customer_history", customer_email=unique_email("nobody"))
        assert "customer_email or customer_phone" in await call_error(
            session, "get_customer_history")
        assert "query" in await call_error(session, "search_knowledge_base", query="")
        assert "reason must be one of" in await call_error(
            session, "escalate_to_human", ticket_id="TKT-1", reason="bored")
        assert "no ticket TKT-999999" in await call_error(
            session, "escalate_to_human", ticket_id="TKT-999999", reason="refund")
        assert "pattern" in await call_error(
            session, "send_response", ticket_id="1234", message="hello")
        assert "no ticket TKT-999999" in await call_error(
            session, "send_response", ticket_id="TKT-999999", message="hello")
        assert "output guardrail (refund_promise)" in await call_error(
            session, "send_response", ticket_id="TKT-999999",
            message="We will refund you the full amount today.")
        assert await counts(pool) == before, "a refused call wrote to the database"

        # Observe-only (the code default): the reply is stored but held for an operator.
        created = await call(session, "create_ticket", channel="whatsapp",
                             customer_phone="+1 415 555 0123", message="Is the API down?")
        sent = await call(session, "send_response", ticket_id=created["ticket_id"],
                          message="No, all systems are operational.")
        assert sent["status"] == "pending_approval"
        async with pool.acquire() as conn:
            reply = await conn.fetchrow(
                "SELECT id, status, channel FROM messages WHERE in_reply_to = $1",
                uuid.UUID(created["message_id"]))
            released = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE payload->'data'->>'message_id' = $1",
                str(reply["id"]))
        assert (reply["status"], reply["channel"]) == ("pending_approval", "whatsapp")
        assert released == 0  # nothing is handed to the dispatcher


async def test_the_same_tools_are_served_over_streamable_http(
    mcp_db: tuple[Settings, Pool]
) -> None:
    settings, _ = mcp_db
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "production.mcp_server", "--transport", "streamable-http",
        "--port", str(port), env=child_env(settings), cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL)
    async def listening() -> bool:
        assert proc.returncode is None, "the server exited"
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        return True

    try:
        await wait_for(listening, timeout_s=60, interval_s=0.2)
        async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write), \
                ClientSession(read, write, read_timeout_seconds=60) as session:
            await session.initialize()
            assert {t.name for t in (await session.list_tools()).tools} == TOOLS
            found = await call(session, "search_knowledge_base", query="reset password", limit=2)
            assert 1 <= len(found["results"]) <= 2
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 15)
