"""The support form and ticket endpoints over real HTTP against real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from production.database.pool import Pool
from tests.conftest import Stack, form, unique_email

# What a web form submission writes. Scoped so that replies the session's worker is still
# writing for earlier tests (outbound messages, outgoing events) do not count.
INTAKE_ROWS = {
    "customers": "SELECT count(*) FROM customers",
    "customer_identifiers": "SELECT count(*) FROM customer_identifiers",
    "conversations": "SELECT count(*) FROM conversations",
    "tickets": "SELECT count(*) FROM tickets WHERE source_channel = 'web_form'",
    "messages": "SELECT count(*) FROM messages WHERE channel = 'web_form' "
                "AND direction = 'inbound'",
    "outbox": "SELECT count(*) FROM outbox WHERE topic = 'fte.tickets.incoming'",
}


async def _counts(pool: Pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        return {name: await conn.fetchval(sql) for name, sql in INTAKE_ROWS.items()}


INVALID = [
    ("name", "A", "name"),
    ("name", None, "name"),
    ("email", "not-an-email", "email"),
    ("email", "", "email"),
    ("phone", "12", "phone"),
    ("subject", "Hey", "subject"),
    ("category", "gossip", "category"),
    ("priority", "whenever", "priority"),
    ("message", "too short", "message"),
    ("message", "x" * 5001, "message"),
    ("unexpected", "field", "unexpected"),
]


@pytest.mark.parametrize(("field", "value", "reported"), INVALID)
async def test_each_invalid_field_is_rejected_with_a_reason_and_nothing_written(
    stack: Stack, field: str, value: object, reported: str
) -> None:
    body = form()
    if value is None:
        body.pop(field)
    else:
        body[field] = value
    before = await _counts(stack.pool)
    res = await stack.http.post("/api/v1/support/form", json=body)
    assert res.status_code == 422
    errors = res.json()["errors"]
    assert [e["field"] for e in errors] == [reported]
    assert errors[0]["reason"]
    assert await _counts(stack.pool) == before


async def test_malformed_json_is_422_and_nothing_written(stack: Stack) -> None:
    before = await _counts(stack.pool)
    res = await stack.http.post("/api/v1/support/form", content=b"{not json",
                                headers={"content-type": "application/json"})
    assert res.status_code == 422
    assert await _counts(stack.pool) == before


async def test_idempotency_key_makes_a_retried_submit_return_the_same_ticket(stack: Stack) -> None:
    body = form()
    key = f"retry-{uuid.uuid4()}"
    first = await stack.http.post("/api/v1/support/form", json=body,
                                  headers={"Idempotency-Key": key})
    before = await _counts(stack.pool)
    second = await stack.http.post("/api/v1/support/form", json=body,
                                   headers={"Idempotency-Key": key})
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["ticket_id"] == first.json()["ticket_id"]
    assert await _counts(stack.pool) == before


async def test_idempotency_key_reused_for_another_request_is_a_conflict(stack: Stack) -> None:
    key = f"reuse-{uuid.uuid4()}"
    first = await stack.http.post("/api/v1/support/form", json=form(),
                                  headers={"Idempotency-Key": key})
    other = await stack.http.post("/api/v1/support/form", json=form(),
                                  headers={"Idempotency-Key": key})
    assert first.status_code == 201
    assert other.status_code == 409
    assert "Idempotency-Key" in other.json()["detail"]


async def test_same_email_is_one_customer_across_submissions(stack: Stack) -> None:
    email = unique_email("repeat")
    for _ in range(2):
        res = await stack.http.post("/api/v1/support/form", json=form(email=email.upper()))
        assert res.status_code == 201
    async with stack.pool.acquire() as conn:
        owners = await conn.fetchval(
            "SELECT count(DISTINCT customer_id) FROM customer_identifiers "
            "WHERE tenant_id = 'techcorp' AND identifier_value = $1", email)
        tickets = await conn.fetchval(
            "SELECT count(*) FROM tickets t JOIN customers c ON c.id = t.customer_id "
            "WHERE c.email = $1", email)
    assert owners == 1
    assert tickets == 2


async def test_unknown_or_malformed_ticket_is_404(stack: Stack) -> None:
    assert (await stack.http.get("/api/v1/tickets/TKT-999999999")).status_code == 404
    assert (await stack.http.get("/api/v1/tickets/nonsense")).status_code == 404


async def test_health_reports_components(stack: Stack) -> None:
    res = await stack.http.get("/api/v1/health")
    assert res.status_code == 200
    body = res.json()
    assert body["status"] == "healthy"
    assert body["components"] == {
        "database": "up", "kafka": "up",
        # No Gmail or Twilio credentials here: those replies are recorded, not sent.
        "channels": {"email": "sandbox", "whatsapp": "sandbox", "web_form": "up"},
        "consumers": {"fte-worker": "up", "fte-dispatcher": "up"}}
    assert body["version"]
    assert (await stack.http.get("/api/v1/health/live")).json() == {"status": "alive"}


async def test_metrics_expose_request_latency_by_route(stack: Stack) -> None:
    await stack.http.get("/api/v1/health/live")
    text = (await stack.http.get("/metrics")).text
    assert ('fte_http_request_duration_seconds_count{method="GET",'
            'route="/api/v1/health/live",status="200"}') in text


async def test_a_disabled_web_form_channel_accepts_nothing(stack: Stack) -> None:
    import httpx

    from production.local_stack import free_port
    from tests.conftest import _serve_api

    settings = stack.settings.model_copy(update={"enabled_channels": ["email", "whatsapp"]})
    server, task = await _serve_api(settings, port := free_port())
    before = await _counts(stack.pool)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            res = await http.post("/api/v1/support/form", json=form())
    finally:
        server.should_exit = True
        await task
    assert res.status_code == 404
    assert "not enabled" in res.json()["detail"]
    assert await _counts(stack.pool) == before
