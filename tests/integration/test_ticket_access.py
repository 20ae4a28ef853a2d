"""A ticket number is not a key: a ticket's conversation opens only with its customer's access
token (or an operator key of its tenant), over real HTTP against real PostgreSQL.

Every way of reading a ticket is tried without, with another ticket's and with a wrong
credential: each is the same 404 as a ticket that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from production import clock
from production.agent.runner import SupportAgent
from production.config import Settings, TicketSettings
from production.database.pool import Pool, create_pool
from production.domain.formatting import with_status_link
from production.domain.messages import InboundMessage
from production.domain.ticket_access import TicketLinks
from production.embeddings import local_embedder
from production.local_stack import EmbeddedPostgres, LocalBroker
from production.services import admin_keys, intake, ticket_access
from production.services.process_inbound import WorkerDeps, process
from tests.conftest import (
    Stack,
    api_alone,
    form,
    isolated_settings,
    read_ticket,
    status_link,
    unique_email,
    wait_for,
)

UNKNOWN = {"detail": "no such ticket"}
# Every table a token could be written to if it leaked into a message, an event or a record.
TABLES = ("messages", "outbox", "deliveries", "tickets", "care_audit", "care_proposals",
          "agent_metrics", "customers")


async def _open_ticket(http: httpx.AsyncClient, **fields: object) -> dict[str, Any]:
    res = await http.post("/api/v1/support/form", json=form(**fields),
                          headers={"Idempotency-Key": f"access-{uuid.uuid4()}"})
    assert res.status_code == 201, res.text
    body: dict[str, Any] = res.json()
    return body


def _wrong_token() -> str:
    return "tkt_" + secrets.token_urlsafe(32)


async def _appears_in(pool: Pool, text: str) -> list[str]:
    """Return the tables where `text` is stored anywhere in a row."""
    found = []
    async with pool.acquire() as conn:
        for table in TABLES:
            if await conn.fetchval(
                    f"SELECT count(*) FROM {table} t WHERE t::text LIKE '%' || $1 || '%'",
                    text):
                found.append(table)
    return found


async def test_the_forms_answer_carries_the_token_and_only_its_hash_is_stored(
        stack: Stack) -> None:
    body = form()
    key = f"token-{uuid.uuid4()}"
    first = await stack.http.post("/api/v1/support/form", json=body,
                                  headers={"Idempotency-Key": key})
    replay = await stack.http.post("/api/v1/support/form", json=body,
                                   headers={"Idempotency-Key": key})
    assert (first.status_code, replay.status_code) == (201, 200)
    token = first.json()["access_token"]
    assert token.startswith("tkt_") and len(token) == 47
    assert replay.json()["access_token"] == token  # derived again, not kept
    assert first.headers["cache-control"] == "no-store"
    ticket = first.json()["ticket_id"]

    async def answered() -> bool:
        view = (await read_ticket(stack.http, ticket, token)).json()
        return any(m["author"] == "agent" and m["delivered_at"] for m in view["messages"])

    assert await wait_for(answered, timeout_s=20)
    async with stack.pool.acquire() as conn:
        stored = await conn.fetchrow(
            "SELECT access_nonce, access_hash FROM tickets WHERE ticket_number = $1", ticket)
    assert stored["access_hash"] == hashlib.sha256(token.encode()).digest()
    assert len(stored["access_nonce"]) == 16
    assert await _appears_in(stack.pool, token) == []  # the reply is stored, the token is not


async def test_a_status_link_pasted_into_a_new_request_is_not_stored(stack: Stack) -> None:
    first = await _open_ticket(stack.http)
    link = f"{stack.base_url}/support/tickets/{first['ticket_id']}#token={first['access_token']}"
    second = await _open_ticket(stack.http, message=f"Following up on {link}, still stuck.")
    assert second["ticket_id"] != first["ticket_id"]
    assert await _appears_in(stack.pool, first["access_token"]) == []


async def test_every_ticket_read_without_the_right_credential_is_the_same_404(
        stack: Stack) -> None:
    mine = await _open_ticket(stack.http)
    other_email = unique_email("other")
    other = await _open_ticket(stack.http, email=other_email)
    ticket, token = mine["ticket_id"], mine["access_token"]
    path = f"/api/v1/tickets/{ticket}"

    unknown = await stack.http.get("/api/v1/tickets/TKT-999999999999",
                                   headers={"Authorization": f"Bearer {token}"})
    refused = {
        "no credential": await stack.http.get(path),
        "another ticket's token": await read_ticket(stack.http, ticket, other["access_token"]),
        "another ticket's token as ?token": await stack.http.get(
            path, params={"token": other["access_token"]}),
        "a wrong token": await read_ticket(stack.http, ticket, _wrong_token()),
        "a wrong ?token": await stack.http.get(path, params={"token": _wrong_token()}),
        "the token in another scheme": await stack.http.get(
            path, headers={"Authorization": f"Basic {token}"}),
        "an empty bearer": await stack.http.get(path, headers={"Authorization": "Bearer"}),
        "a key-shaped wrong credential": await read_ticket(
            stack.http, ticket, "fte_00000000_" + "A" * 43),
        "a malformed number": await read_ticket(stack.http, "TKT-1000;--", token),
        "no email": await stack.http.post("/api/v1/tickets/lookup",
                                          json={"ticket_id": ticket, "email": "x"}),
        "another ticket's email": await stack.http.post(
            "/api/v1/tickets/lookup", json={"ticket_id": ticket, "email": other_email}),
        "a malformed number's lookup": await stack.http.post(
            "/api/v1/tickets/lookup", json={"ticket_id": "TKT-x", "email": other_email}),
        "an unknown ticket's lookup": await stack.http.post(
            "/api/v1/tickets/lookup",
            json={"ticket_id": "TKT-999999999999", "email": other_email}),
    }
    assert unknown.status_code == 404
    assert unknown.json() == UNKNOWN
    for why, res in refused.items():
        assert (res.status_code, res.json()) == (404, UNKNOWN), why
        assert res.content == unknown.content, why

    for opened in (await read_ticket(stack.http, ticket, token),
                   await stack.http.get(path, params={"token": token})):
        assert opened.status_code == 200
        assert opened.json()["ticket_id"] == ticket
        assert opened.headers["cache-control"] == "no-store"


async def test_walking_50_sequential_ticket_numbers_reads_nothing(stack: Stack) -> None:
    secret_line = f"My invoice number is {uuid.uuid4().hex}, why was I charged twice?"
    created = [await _open_ticket(stack.http, message=secret_line) for _ in range(3)]
    first = int(created[0]["ticket_id"].removeprefix("TKT-"))
    walked = range(first - 25, first + 25)
    assert {int(t["ticket_id"].removeprefix("TKT-")) for t in created} <= set(walked)
    answers = [await stack.http.get(f"/api/v1/tickets/TKT-{n}") for n in walked]
    assert {(res.status_code, res.content) for res in answers} == {
        (404, b'{"detail":"no such ticket"}')}
    assert all(secret_line not in res.text for res in answers)


async def test_check_a_ticket_by_its_number_and_email(stack: Stack) -> None:
    email = unique_email("lookup")
    opened = await _open_ticket(stack.http, email=email)
    ticket = opened["ticket_id"]
    for typed_number, typed_email in ((ticket, email), (ticket.lower(), f"  {email.upper()} "),
                                      (ticket, f"Ada <{email}>")):
        res = await stack.http.post("/api/v1/tickets/lookup",
                                    json={"ticket_id": typed_number, "email": typed_email})
        assert res.status_code == 200, res.text
        assert res.json() == {"ticket_id": ticket, "access_token": opened["access_token"]}
        assert res.headers["cache-control"] == "no-store"
    bad = await stack.http.post("/api/v1/tickets/lookup", json={"ticket_id": ticket})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"


async def test_an_email_customer_opens_the_ticket_from_the_link_in_the_reply(
        stack: Stack) -> None:
    address = unique_email("linked")
    message = InboundMessage(
        tenant_id="techcorp", channel="email", external_id=f"link-{uuid.uuid4().hex}",
        content="Hello, how do I turn on two-factor authentication for my account?",
        subject="2FA", sender_name="Katherine Johnson", sender_email=address)
    await intake.accept_inbound(pool=stack.pool, msg=message,
                                topic=stack.settings.kafka.topic_incoming)

    async def listed() -> Any:
        res = await stack.http.get("/api/v1/sandbox/messages", params={"channel": "email"})
        return next((m for m in res.json()["messages"] if m["recipient"] == address), None)

    sent = await wait_for(listed, timeout_s=20)
    ticket, token = status_link(sent["body"])
    assert ticket == sent["ticket_id"]
    assert f"{stack.base_url}/support/tickets/{ticket}#token={token}" in sent["body"]
    view = await read_ticket(stack.http, ticket, token)
    assert view.status_code == 200
    assert view.json()["channel"] == "email"
    assert view.json()["messages"][0]["content"] == message.content
    assert (await stack.http.get(f"/api/v1/tickets/{ticket}")).status_code == 404
    # The same token by number and email, and nowhere in the database.
    looked_up = await stack.http.post("/api/v1/tickets/lookup",
                                      json={"ticket_id": ticket, "email": address})
    assert looked_up.json()["access_token"] == token
    assert await _appears_in(stack.pool, token) == []


@pytest.fixture(scope="module")
async def access(postgres: EmbeddedPostgres, broker: LocalBroker) -> Settings:
    """A database of its own: another tenant and tight limits leave the session alone."""
    return await isolated_settings(postgres, broker, "access")


@contextlib.asynccontextmanager
async def _api(settings: Settings, **tickets: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Serve the API alone (no workers) with these ticket settings, for one test."""
    tuned = settings.model_copy(update={
        "tickets": TicketSettings(**tickets) if tickets else settings.tickets})
    async with api_alone(tuned) as http:
        yield http


async def test_failed_lookups_are_limited_per_client_address(access: Settings) -> None:
    async with _api(access, lookup_failures=3, lookup_window_s=60) as http:
        opened = await _open_ticket(http)
        ticket, token = opened["ticket_id"], opened["access_token"]
        assert (await read_ticket(http, ticket, token)).status_code == 200  # no failure
        for _ in range(2):
            assert (await http.get(f"/api/v1/tickets/{ticket}")).status_code == 404
        wrong_email = await http.post("/api/v1/tickets/lookup",
                                      json={"ticket_id": ticket, "email": unique_email()})
        assert wrong_email.status_code == 404

        for blocked in (await http.get(f"/api/v1/tickets/{ticket}"),
                        await read_ticket(http, ticket, token),
                        await http.post("/api/v1/tickets/lookup",
                                        json={"ticket_id": ticket, "email": "a@b.example"})):
            assert blocked.status_code == 429
            assert 0 < int(blocked.headers["retry-after"]) <= 60
            assert "too many" in blocked.json()["detail"]
        # The form itself is not limited.
        assert (await http.post("/api/v1/support/form", json=form())).status_code == 201


async def test_the_forwarded_address_counts_only_from_a_trusted_proxy(access: Settings) -> None:
    async def fail_twice(http: httpx.AsyncClient, client: str) -> None:
        for _ in range(2):
            res = await http.get("/api/v1/tickets/TKT-1", headers={"X-Forwarded-For": client})
            assert res.status_code == 404

    async with _api(access, lookup_failures=2, lookup_window_s=60) as http:
        await fail_twice(http, "203.0.113.5")
        # Nobody is trusted by default: a made-up header does not escape the limit.
        res = await http.get("/api/v1/tickets/TKT-1", headers={"X-Forwarded-For": "203.0.113.6"})
        assert res.status_code == 429

    behind_ingress = access.model_copy(update={"api": access.api.model_copy(
        update={"trusted_proxies": ["127.0.0.0/8"]})})
    async with _api(behind_ingress, lookup_failures=2, lookup_window_s=60) as http:
        await fail_twice(http, "203.0.113.5")
        res = await http.get("/api/v1/tickets/TKT-1", headers={"X-Forwarded-For": "203.0.113.5"})
        assert res.status_code == 429
        res = await http.get("/api/v1/tickets/TKT-1",
                             headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.6"})
        assert res.status_code == 404  # another client behind the same proxy


async def test_an_operator_key_reads_the_tickets_of_its_own_tenant_only(
        access: Settings) -> None:
    db = await create_pool(access, min_size=1, max_size=2)
    try:
        async with db.acquire() as conn:
            await conn.execute("INSERT INTO tenants (id, name) VALUES ('elsewhere', 'Else')")
        _, ours = await admin_keys.create_key(pool=db, tenant_id="techcorp", role="operator",
                                              name="support-desk")
        _, theirs = await admin_keys.create_key(pool=db, tenant_id="elsewhere", role="admin",
                                                name="other-admin")
        async with _api(access) as http:
            ticket = (await _open_ticket(http))["ticket_id"]
            read = await read_ticket(http, ticket, ours)
            assert read.status_code == 200 and read.json()["ticket_id"] == ticket
            for refused in (await read_ticket(http, ticket, theirs),
                            await read_ticket(http, "TKT-999999999999", ours),
                            await read_ticket(http, "ticket-1", ours)):
                assert (refused.status_code, refused.json()) == (404, UNKNOWN)
    finally:
        await db.close()


async def test_a_ticket_gets_one_token_however_many_issue_it_at_once(access: Settings) -> None:
    db = await create_pool(access, min_size=1, max_size=8)
    links = ticket_access.links_for(settings=access)
    try:
        async with _api(access) as http:
            # Opened on another channel: no token yet, until its first reply's link needs one.
            ticket = (await _open_ticket(http))["ticket_id"]
        async with db.acquire() as conn:
            await conn.execute("UPDATE tickets SET access_nonce = NULL, access_hash = NULL "
                               "WHERE ticket_number = $1", ticket)

        async def issue() -> str:
            async with db.acquire() as conn:
                return await ticket_access.issue_for(conn, links, "techcorp", ticket)

        tokens = await asyncio.gather(*(issue() for _ in range(8)))
        assert len(set(tokens)) == 1
        assert await issue() == tokens[0]  # a redelivered reply gets the same link
        async with db.acquire() as conn:  # an issuer that read before the winner wrote
            assert await ticket_access.issue(conn, links, "techcorp", ticket, nonce=None,
                                             stored_hash=None) == tokens[0]
        async with db.acquire() as conn:
            stored = await conn.fetchval(
                "SELECT access_hash FROM tickets WHERE ticket_number = $1", ticket)
        assert stored == hashlib.sha256(tokens[0].encode()).digest()
    finally:
        await db.close()


async def test_a_rotated_secret_re_keys_a_ticket_when_its_token_is_next_issued(
        access: Settings) -> None:
    rotated = access.model_copy(update={"tickets": TicketSettings(
        token_secret="a-new-secret-from-the-secret-store", lookup_failures=100)})
    email = unique_email("rotated")
    async with _api(access) as http:
        opened = await _open_ticket(http, email=email)
    ticket, before = opened["ticket_id"], opened["access_token"]
    async with _api(rotated) as http:
        assert (await read_ticket(http, ticket, before)).status_code == 200  # still its hash
        looked_up = await http.post("/api/v1/tickets/lookup",
                                    json={"ticket_id": ticket, "email": email})
        after = looked_up.json()["access_token"]
        assert after != before
        assert (await read_ticket(http, ticket, after)).status_code == 200
        assert (await read_ticket(http, ticket, before)).status_code == 404


def test_links_point_at_the_public_url() -> None:
    settings = Settings(api={"public_url": "https://help.example/", "port": 9000})
    links = ticket_access.links_for(settings=settings)
    assert links.base_url == "https://help.example"
    assert ticket_access.links_for(settings=Settings(api={"port": 9000})).base_url == \
        "http://127.0.0.1:9000"
    assert isinstance(links, TicketLinks)


async def test_a_whatsapp_reply_is_stored_with_its_tickets_token_issued_before_it_leaves(
        access: Settings) -> None:
    db = await create_pool(access, min_size=1, max_size=4)
    try:
        phone = "+1415555" + str(uuid.uuid4().int)[:4]
        message = InboundMessage(
            tenant_id="techcorp", channel="whatsapp", external_id=f"SM{uuid.uuid4().hex}",
            content="how do i export a project to csv?", sender_phone=phone)
        deps = WorkerDeps(pool=db, settings=access, agent=SupportAgent(access),
                          embedder=local_embedder())
        # No dispatcher runs here: nothing is sent.
        handled = await process(deps, message, clock=clock.now)
        assert handled.result == "replied" and handled.ctx is not None
        async with db.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT t.ticket_number, t.access_hash, r.content, r.status FROM tickets t "
                "JOIN messages r ON r.ticket_id = t.id AND r.role = 'agent' "
                "WHERE t.id = $1", handled.ctx.ticket_id)
        assert row["status"] == "queued"
        assert row["access_hash"] is not None  # committed with the reply, before it leaves
        assert "#token=" not in row["content"]  # the link is added as it leaves, never stored
        links = ticket_access.links_for(settings=access)
        async with db.acquire() as conn:
            token = await ticket_access.issue_for(conn, links, "techcorp", row["ticket_number"])
        sent = with_status_link(row["content"], "whatsapp",
                                links.status_url(row["ticket_number"], token))
        assert len(sent) <= 300  # the channel's limit, link included
        assert hashlib.sha256(token.encode()).digest() == row["access_hash"]
    finally:
        await db.close()
