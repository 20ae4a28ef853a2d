"""Abuse limits over real HTTP: bodies over the size limit are 413 before anything parses
them (the form, both webhooks, the admin API), however they are sent; the public form and the
ticket endpoints are rate limited per client address and per sender (429 with Retry-After),
the forwarded address believed only from a trusted proxy. Nothing refused is stored.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from production.config import RateLimitSettings, Settings
from production.database.pool import create_pool
from production.local_stack import EmbeddedPostgres, LocalBroker
from production.services import admin_keys
from tests.conftest import api_alone, form, isolated_settings, unique_email

LIMIT = 4_096


@pytest.fixture(scope="module")
async def abuse(postgres: EmbeddedPostgres, broker: LocalBroker) -> Settings:
    settings = await isolated_settings(postgres, broker, "abuse")
    return settings.model_copy(update={
        "api": settings.api.model_copy(update={"max_body_bytes": LIMIT}),
        "twilio": settings.twilio.model_copy(update={
            "account_sid": "AC" + "0" * 32, "auth_token": SecretStr("abuse-test-token")})})


@contextlib.asynccontextmanager
async def _api(settings: Settings, *, trusted: list[str] | None = None,
               **limits: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Serve the API alone with these rate limits (and trusted proxies), for one test."""
    tuned = settings.model_copy(update={
        "rate_limit": RateLimitSettings(**limits) if limits else settings.rate_limit,
        "api": settings.api.model_copy(update={"trusted_proxies": trusted or []})})
    async with api_alone(tuned) as http:
        yield http


async def _stored(settings: Settings) -> int:
    conn = await asyncpg.connect(settings.database_url())
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM messages")
        return count
    finally:
        await conn.close()


async def _chunks(body: bytes, size: int = 1_000) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


async def test_a_body_over_the_limit_is_413_before_parsing_and_stores_nothing(
        abuse: Settings) -> None:
    db = await create_pool(abuse, min_size=1, max_size=1)
    try:
        _, key = await admin_keys.create_key(
            pool=db, tenant_id="techcorp", role="admin", name="abuse-test")
    finally:
        await db.close()
    big_json = httpx.Request("POST", "/", json=form(message="x" * (LIMIT + 10))).content
    big_form = b"Body=" + b"y" * (LIMIT + 10) + b"&From=whatsapp%3A%2B14155550100"
    before = await _stored(abuse)
    async with _api(abuse) as http:
        refused = [
            await http.post("/api/v1/support/form", content=big_json,
                            headers={"Content-Type": "application/json"}),
            await http.post("/api/v1/webhooks/whatsapp", content=big_form,
                            headers={"Content-Type": "application/x-www-form-urlencoded"}),
            await http.post("/api/v1/webhooks/gmail", content=big_json,
                            headers={"Content-Type": "application/json"}),
            await http.put("/api/v1/admin/autonomy", content=big_json,
                           headers={"Content-Type": "application/json",
                                    "Authorization": f"Bearer {key}"}),
            # Streamed in chunks, no Content-Length: the bytes are counted as they come.
            await http.post("/api/v1/support/form", content=_chunks(big_json),
                            headers={"Content-Type": "application/json"}),
            await http.post("/api/v1/webhooks/whatsapp", content=_chunks(big_form),
                            headers={"Content-Type": "application/x-www-form-urlencoded"}),
        ]
        for res in refused:
            assert res.status_code == 413, res.text
            assert res.json() == {"detail": "the request body is larger than this server "
                                            f"accepts ({LIMIT} bytes at most)"}
        assert "content-length" not in refused[-1].request.headers
        # Within the limit, streamed or not, a body is read whole.
        small = httpx.Request("POST", "/", json=form()).content
        assert (await http.post("/api/v1/support/form", content=_chunks(small, 50),
                                headers={"Content-Type": "application/json"})).status_code == 201
        # A forged webhook within the limit still meets the signature check.
        assert (await http.post("/api/v1/webhooks/whatsapp", data={"Body": "hi"})
                ).status_code == 403
    assert await _stored(abuse) == before + 1


async def test_the_form_is_limited_per_client_address_and_per_email(abuse: Settings) -> None:
    async with _api(abuse, trusted=["127.0.0.0/8"], form_per_client=3, form_per_sender=2,
                    window_s=60) as http:
        def post(client: str, email: str | None = None) -> Any:
            return http.post("/api/v1/support/form", json=form(email=email or unique_email()),
                             headers={"X-Forwarded-For": client})

        for _ in range(3):
            assert (await post("203.0.113.10")).status_code == 201
        refused = await post("203.0.113.10")
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert refused.json() == {"detail": "too many support requests from this address; "
                                            "try again later"}
        assert (await post("203.0.113.11")).status_code == 201  # another client

        # One sender from many addresses: the email's own limit.
        email = unique_email("repeat")
        assert (await post("198.51.100.1", email)).status_code == 201
        assert (await post("198.51.100.2", email.upper())).status_code == 201
        refused = await post("198.51.100.3", email)
        assert refused.status_code == 429
        assert "this email address" in refused.json()["detail"]


async def test_ticket_reads_are_limited_per_client_and_per_ticket(abuse: Settings) -> None:
    async with _api(abuse, trusted=["127.0.0.0/8"], tickets_per_client=3,
                    tickets_per_subject=4, window_s=60) as http:
        opened = (await http.post("/api/v1/support/form", json=form())).json()
        ticket, token = opened["ticket_id"], opened["access_token"]
        auth = {"Authorization": f"Bearer {token}"}

        def read(client: str) -> Any:
            return http.get(f"/api/v1/tickets/{ticket}",
                            headers={**auth, "X-Forwarded-For": client})

        for _ in range(3):
            assert (await read("203.0.113.20")).status_code == 200
        refused = await read("203.0.113.20")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert (await read("203.0.113.21")).status_code == 200  # the ticket's 4th read
        refused = await read("203.0.113.22")  # a fresh client, but the ticket is over its limit
        assert refused.status_code == 429
        assert refused.json()["detail"] == "too many ticket requests; try again later"
        # Lookups count per client too: the first client is still over its limit.
        lookup = await http.post("/api/v1/tickets/lookup",
                                 json={"ticket_id": ticket, "email": unique_email()},
                                 headers={"X-Forwarded-For": "203.0.113.20"})
        assert lookup.status_code == 429


async def test_what_the_fuzzer_found_is_refused_with_its_reason(abuse: Settings) -> None:
    """Regressions of tests/integration/test_fuzz_api.py's findings, each once a 500."""
    async with _api(abuse) as http:
        # A NUL character in the form: PostgreSQL text cannot hold it.
        res = await http.post("/api/v1/support/form", json=form(message="Hello\x00, my export"))
        assert res.status_code == 422
        assert res.json()["errors"] == [{"field": "message", "reason": "Value error, may not "
                                         "contain a NUL character or an unpaired surrogate"}]
        # A cursor past the bigint range names no row: 422, not a driver overflow.
        db = await create_pool(abuse, min_size=1, max_size=1)
        try:
            _, key = await admin_keys.create_key(
                pool=db, tenant_id="techcorp", role="operator", name="cursor-test")
        finally:
            await db.close()
        res = await http.get("/api/v1/admin/activity", params={"before_id": 2**70},
                             headers={"Authorization": f"Bearer {key}"})
        assert res.status_code == 422
        # 405 names every method of the path (two routes here), and a fixed path is its own.
        res = await http.request("OPTIONS", "/api/v1/admin/autonomy")
        assert (res.status_code, res.headers["allow"]) == (405, "GET, PUT")
        res = await http.request("OPTIONS", "/api/v1/tickets/lookup")
        assert (res.status_code, res.headers["allow"]) == (405, "POST")
