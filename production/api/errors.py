"""The API's one mapping from exceptions to HTTP answers, registered by the app factory.

A view lets a service's exception through; `ANSWERS` says, by the exception's type, which
status, detail and headers answer it (Starlette picks the closest class in the exception's MRO).
A rule broken in the request is a 422 listing each field and its reason, whether pydantic or a
service found it. Anything else is a 500 with a generic body and a request id, and the error is
logged with that id and its traceback: a traceback never reaches a client.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from production.channels.gmail import (
    GmailNotConfigured,
    GmailRefused,
    GmailUnavailable,
)
from production.channels.gmail_push import PushUnauthorized
from production.database.pool import UNAVAILABLE_ERRORS, UNSTORABLE_TEXT_ERRORS
from production.domain import errors
from production.domain.gmail_push import MalformedPush
from production.domain.messages import InvalidMessage
from production.domain.whatsapp import InvalidTwilioRequest

log = structlog.get_logger(__name__)

INVALID = "the request is not valid"
UNSTORABLE = ("the request holds text that cannot be stored (a NUL character or an unpaired "
              "surrogate); nothing was stored")
DATABASE_UNAVAILABLE = "the database is unavailable, nothing was stored; please retry"
INTERNAL = "the server could not answer this request; the error is logged as request {id}"


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to an exception: `detail` is a template of the exception's message
    (`{exc}`); `event`, when set, is logged with the exception's type and message."""

    status: int
    detail: str = "{exc}"
    headers: Mapping[str, str] = field(default_factory=dict)
    event: str | None = None
    level: Literal["warning", "error"] = "warning"


_DATABASE = Answer(503, DATABASE_UNAVAILABLE, {"Retry-After": "1"}, "database_unavailable")

ANSWERS: Mapping[type[Exception], Answer] = {
    errors.NotFound: Answer(404),
    errors.Conflict: Answer(409),  # e.g. IdempotencyConflict, an already decided proposal
    InvalidTwilioRequest: Answer(400),
    InvalidMessage: Answer(400),
    MalformedPush: Answer(400, "malformed push: {exc}"),
    PushUnauthorized: Answer(401, "unauthorized: {exc}", {"WWW-Authenticate": "Bearer"},
                             "gmail_push_unauthorized"),
    GmailRefused: Answer(502, "Gmail refused the sync: {exc}", event="gmail_sync_refused",
                         level="error"),
    GmailUnavailable: Answer(503, "Gmail is unavailable, please retry: {exc}",
                             {"Retry-After": "5"}, "gmail_unavailable"),
    GmailNotConfigured: Answer(503, "the email channel is not configured: {exc}"),
    **{error: _DATABASE for error in UNAVAILABLE_ERRORS if issubclass(error, Exception)},
    **{error: Answer(400, UNSTORABLE, event="unstorable_text") for error in UNSTORABLE_TEXT_ERRORS},
}


class FieldProblem(BaseModel):
    field: str
    reason: str


class ErrorBody(BaseModel):
    """Every error answer: what was wrong (`detail`), each field's problem for a 422, and the
    request id a 500 is logged under."""

    detail: str
    errors: list[FieldProblem] | None = None
    request_id: str | None = None


# Documented on every route (the app's default responses), so clients and the fuzzer know
# the shape of every refusal: 4xx for the request, 503 for a dependency that is down.
RESPONSES: dict[int | str, dict[str, object]] = {
    "4XX": {"model": ErrorBody, "description": "The request was refused; `detail` says why"},
    503: {"model": ErrorBody, "description": "A dependency is unavailable; retry after "
                                             "Retry-After"},
}


def install(app: FastAPI) -> None:
    """Register the table's answers, the 422s and the catch-all 500 on the app."""
    app.exception_handler(405)(_method_not_allowed)
    app.exception_handler(RequestValidationError)(_request_invalid)
    app.exception_handler(errors.Invalid)(_service_invalid)
    for error, answer in ANSWERS.items():
        app.exception_handler(error)(_responder(answer))
    app.exception_handler(Exception)(_internal)


def _responder(answer: Answer) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def respond(_: Request, exc: Exception) -> JSONResponse:
        if answer.event is not None:
            getattr(log, answer.level)(answer.event, error=type(exc).__name__, reason=str(exc))
        return JSONResponse(status_code=answer.status, headers=dict(answer.headers),
                            content={"detail": answer.detail.format(exc=exc)})

    return respond


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """405 with every method the path has, as the API documents them. Starlette's own Allow
    names only the first route that matched the path, though a path may have one route per
    method; and a fixed path ("/tickets/lookup") is its own resource, not a value of a
    templated one's parameter."""
    headers = dict(getattr(exc, "headers", None) or {})
    methods = _documented_methods(request.app, request.url.path)
    if methods:
        headers["Allow"] = ", ".join(methods)
    detail = exc.detail if isinstance(exc, StarletteHTTPException) else "Method Not Allowed"
    return JSONResponse(status_code=405, content={"detail": detail}, headers=headers)


def _documented_methods(app: FastAPI, path: str) -> list[str]:
    paths: dict[str, dict[str, object]] = app.openapi().get("paths", {})
    if path in paths:
        return sorted(method.upper() for method in paths[path])
    return sorted({method.upper() for template, operations in paths.items()
                   if re.fullmatch(re.sub(r"\{[^/}]+\}", "[^/]+", template), path)
                   for method in operations})


def _invalid(problems: Iterable[tuple[str, str]]) -> JSONResponse:
    return JSONResponse(status_code=422, content={
        "detail": INVALID,
        "errors": [{"field": name, "reason": reason} for name, reason in problems]})


async def _request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    """Pydantic's errors, each named by its location without the `body` prefix."""
    return _invalid((".".join(str(p) for p in err["loc"] if p != "body") or "body", err["msg"])
                    for err in exc.errors())


async def _service_invalid(_: Request, exc: errors.Invalid) -> JSONResponse:
    return _invalid(exc.problems)


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    request_id = uuid.uuid4().hex
    route = getattr(request.scope.get("route"), "path", "unmatched")
    log.error("api_unhandled_error", request_id=request_id, method=request.method, route=route,
              error=type(exc).__name__, exc_info=exc)
    return JSONResponse(status_code=500, content={"detail": INTERNAL.format(id=request_id),
                                                  "request_id": request_id})
