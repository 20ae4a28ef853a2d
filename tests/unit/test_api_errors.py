"""The API's one exception mapping: each exception a view lets through gets its status, body and
headers from the table registered by the app factory; anything else is a generic 500 with a
request id, logged with its traceback, and nothing of the error reaches the client."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import httpx
import pytest
from fastapi import Query
from pydantic import BaseModel, Field
from structlog.testing import capture_logs

from production.api import errors
from production.api.app import create_app
from production.care import inbox
from production.channels.gmail import (
    GmailNotConfigured,
    GmailRefused,
    GmailUnavailable,
)
from production.channels.gmail_push import PushUnauthorized
from production.config import Settings
from production.domain.gmail_push import MalformedPush
from production.domain.messages import InvalidMessage
from production.domain.whatsapp import InvalidTwilioRequest
from production.services import care_admin
from production.services.intake import IdempotencyConflict

DATABASE = {"detail": "the database is unavailable, nothing was stored; please retry"}
UNSTORABLE = {"detail": "the request holds text that cannot be stored (a NUL character or an "
                        "unpaired surrogate); nothing was stored"}

# (what a service raises, the status, the body, the headers that must come with it)
CASES: list[tuple[Exception, int, dict[str, Any], dict[str, str]]] = [
    (care_admin.NotFound("no such customer"), 404, {"detail": "no such customer"}, {}),
    (inbox.ProposalNotFound("no such proposal"), 404, {"detail": "no such proposal"}, {}),
    (care_admin.Conflict("no escalation is open for this customer"), 409,
     {"detail": "no escalation is open for this customer"}, {}),
    (inbox.ProposalConflict("the proposal is already rejected"), 409,
     {"detail": "the proposal is already rejected"}, {}),
    (IdempotencyConflict("this Idempotency-Key was already used for a different request"), 409,
     {"detail": "this Idempotency-Key was already used for a different request"}, {}),
    (care_admin.Invalid([("quiet_hours_start", "set both ends or neither"),
                         ("daily_budget", "must be at least 1")]), 422,
     {"detail": "the request is not valid",
      "errors": [{"field": "quiet_hours_start", "reason": "set both ends or neither"},
                 {"field": "daily_budget", "reason": "must be at least 1"}]}, {}),
    (inbox.InvalidDecision("reason", "must not be blank"), 422,
     {"detail": "the request is not valid",
      "errors": [{"field": "reason", "reason": "must not be blank"}]}, {}),
    (InvalidTwilioRequest("the request has no MessageSid"), 400,
     {"detail": "the request has no MessageSid"}, {}),
    (InvalidMessage("an inbound message needs a valid email address or phone number"), 400,
     {"detail": "an inbound message needs a valid email address or phone number"}, {}),
    (MalformedPush("the body is not JSON"), 400,
     {"detail": "malformed push: the body is not JSON"}, {}),
    (PushUnauthorized("missing bearer token"), 401,
     {"detail": "unauthorized: missing bearer token"}, {"www-authenticate": "Bearer"}),
    (GmailRefused(400, "invalid history id"), 502,
     {"detail": "Gmail refused the sync: Gmail answered 400: invalid history id"}, {}),
    (GmailUnavailable("Gmail answered 503"), 503,
     {"detail": "Gmail is unavailable, please retry: Gmail answered 503"},
     {"retry-after": "5"}),
    (GmailNotConfigured("GMAIL_CREDENTIALS_JSON is not set"), 503,
     {"detail": "the email channel is not configured: GMAIL_CREDENTIALS_JSON is not set"}, {}),
    (ConnectionError("the database pool is not ready"), 503, DATABASE, {"retry-after": "1"}),
    (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), 503,
     DATABASE, {"retry-after": "1"}),
    (TimeoutError(), 503, DATABASE, {"retry-after": "1"}),
    (asyncpg.exceptions.CharacterNotInRepertoireError('invalid byte sequence for encoding '
                                                      '"UTF8": 0x00'), 400, UNSTORABLE, {}),
    (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
     400, UNSTORABLE, {}),
]


def _client(raises: Exception) -> httpx.AsyncClient:
    """A client of the real app with one more route, which raises `raises`."""
    app = create_app(Settings(app_env="test"))

    async def boom() -> None:
        raise raises

    app.add_api_route("/boom/{thing}", boom, methods=["POST"])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://fte.test")


@pytest.mark.parametrize(("raised", "status", "body", "headers"), CASES,
                         ids=[type(case[0]).__name__ for case in CASES])
async def test_each_exception_gets_its_answer(raised: Exception, status: int,
                                              body: dict[str, Any],
                                              headers: dict[str, str]) -> None:
    async with _client(raised) as http:
        res = await http.post("/boom/1")
    assert (res.status_code, res.json()) == (status, body)
    assert res.headers["content-type"] == "application/json"
    for name, value in headers.items():
        assert res.headers[name] == value


def test_a_bare_builtin_is_never_answered_as_a_refusal() -> None:
    """A bare ValueError or KeyError is a bug (500), not the caller's mistake: only the domain's
    kinds and the adapters' own exceptions (and the database's unavailability) are mapped."""
    assert not set(errors.ANSWERS) & {ValueError, LookupError, KeyError, RuntimeError, Exception}


@pytest.mark.parametrize("raised", [RuntimeError("token=s3cr3t at /srv/app.py line 12"),
                                    ValueError("bare ValueError: user@example.com"),
                                    KeyError("status")],
                         ids=["RuntimeError", "ValueError", "KeyError"])
async def test_anything_else_is_a_generic_500_logged_with_its_request_id(
    raised: Exception,
) -> None:
    with capture_logs() as logs:
        async with _client(raised) as http:
            res = await http.post("/boom/TKT-1001")
    assert res.status_code == 500
    body = res.json()
    request_id = body["request_id"]
    assert body == {"detail": errors.INTERNAL.format(id=request_id), "request_id": request_id}
    assert str(raised) not in res.text and "Traceback" not in res.text
    assert type(raised).__name__ not in res.text
    [logged] = [entry for entry in logs if entry["event"] == "api_unhandled_error"]
    assert logged["request_id"] == request_id and logged["log_level"] == "error"
    assert logged["exc_info"] is raised and logged["error"] == type(raised).__name__
    # The route's template, never the path itself (ids, ticket numbers) nor its query.
    assert (logged["method"], logged["route"]) == ("POST", "/boom/{thing}")


async def test_two_failures_get_two_request_ids() -> None:
    async with _client(RuntimeError("boom")) as http:
        first, second = await http.post("/boom/1"), await http.post("/boom/1")
    assert first.json()["request_id"] != second.json()["request_id"]


class Change(BaseModel):
    reason: str
    limit: int = Field(ge=1)


async def test_a_request_pydantic_refuses_is_answered_like_a_services_refusal() -> None:
    """The same 422 shape for the schema's refusals: each field without the `body` prefix."""

    async def change(body: Change, size: Annotated[int, Query(le=10)] = 1) -> None:
        raise AssertionError("never called with an invalid request")

    app = create_app(Settings(app_env="test"))
    app.add_api_route("/change", change, methods=["POST"])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://fte.test") as http:
        res = await http.post("/change", params={"size": 11}, json={"limit": 0})
        whole = await http.post("/change", content=b"[]",
                                headers={"content-type": "application/json"})
    assert res.status_code == 422
    assert res.json() == {"detail": "the request is not valid", "errors": [
        {"field": "query.size", "reason": "Input should be less than or equal to 10"},
        {"field": "reason", "reason": "Field required"},
        {"field": "limit", "reason": "Input should be greater than or equal to 1"}]}
    assert whole.json()["errors"][0]["field"] == "body"
