"""Abuse limits: the size of a request body, and how often one client or sender may call.

`BodyLimit` refuses a body larger than API_MAX_BODY_BYTES with 413 before any view, form
parser or JSON decoder sees a byte of it: a declared Content-Length over the limit is refused
at once, and the bytes are counted as they stream in (a chunked body declares nothing, and a
declared length is only a claim). `Limited` answers 429 with Retry-After for a client address
(X-Forwarded-For believed only from API_TRUSTED_PROXIES) or a sender over its window.
"""

from __future__ import annotations

import json
import math
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from production.api.deps import state
from production.domain.client_address import client_address
from production.domain.rate_limit import PublicLimits, WindowLimiter

TOO_LARGE = "the request body is larger than this server accepts ({limit} bytes at most)"
# Methods whose requests carry a body the API reads.
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class BodyLimit:
    """Pure ASGI middleware: 413 for an API request whose body is over `max_bytes`; the body
    of one within the limit is handed on whole, as it came."""

    def __init__(self, app: ASGIApp, max_bytes: int, prefix: str = "/api/") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY \
                or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": TOO_LARGE.format(limit=self.max_bytes)}).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """Return a receive that gives the whole body once, then what the server says next."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def too_many(wait: float, detail: str) -> HTTPException:
    """Return the 429 of a caller who must wait `wait` seconds."""
    return HTTPException(status_code=429, detail=detail,
                         headers={"Retry-After": str(max(1, math.ceil(wait)))})


class Limited:
    """The request's client address and the limits it is counted against; `now` is read once
    per request (a monotonic clock: windows are durations, not dates)."""

    def __init__(self, request: Request) -> None:
        fte = state(request)
        self.limits: PublicLimits = fte.limits
        self.client = client_address(request.client.host if request.client else None,
                                     request.headers.get("x-forwarded-for"),
                                     fte.trusted_proxies)
        self.now = time.monotonic()

    def take(self, limiter: WindowLimiter, key: str, detail: str) -> None:
        """Count this request against `key`; raise 429 if the key is over its limit."""
        wait = limiter.take(key, self.now)
        if wait is not None:
            raise too_many(wait, detail)


Limits = Annotated[Limited, Depends(Limited)]
