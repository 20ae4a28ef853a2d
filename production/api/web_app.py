"""The built web app: /support (the form and its ticket status pages), /console (the operator
console), /widget.js (the form, embeddable in any page) and their assets, from web-form/dist.

The widget runs on other sites' pages, so the public endpoints it calls (the form, a ticket
and a ticket lookup) answer CORS; the admin API does not, so no page of another origin can use
an operator's key through a browser.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from production.api.deps import state
from production.config import Settings

router = APIRouter(include_in_schema=False)

# Where `make run` builds it in a source checkout (an installed package sets WEB_DIST_DIR).
SOURCE_DIST = Path(__file__).resolve().parents[2] / "web-form" / "dist"
NOT_BUILT = "the web app is not built: run make run"

# Hashed file names never change content; the pages and widget.js must be re-checked.
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
_REVALIDATE = {"Cache-Control": "no-cache"}

Handler = Callable[..., Awaitable[FileResponse]]

_PUBLIC_API = re.compile(r"^/api/v1/(support/form|tickets/[^/]+)$")


def _dist(request: Request) -> Path:
    configured = state(request).settings.web.dist_dir
    return configured if configured is not None else SOURCE_DIST


def _built(request: Request, name: str, media_type: str | None = None) -> FileResponse:
    """Return a top-level file of the build; 503 saying how to build it when it is missing."""
    path = _dist(request) / name
    if not path.is_file():
        raise HTTPException(status_code=503, detail=NOT_BUILT)
    return FileResponse(path, media_type=media_type, headers=_REVALIDATE)


def _page(path: str) -> Callable[[Handler], Handler]:
    """A GET (and HEAD, for probes and `curl -I`) route of the web app."""
    return router.api_route(path, methods=["GET", "HEAD"])


@_page("/support")
@_page("/support/{page:path}")
async def support_page(request: Request) -> FileResponse:
    """The support form; its status pages (/support/tickets/TKT-n) are routed in the browser."""
    return _built(request, "support.html")


@_page("/console")
@_page("/console/{page:path}")
async def console_page(request: Request) -> FileResponse:
    return _built(request, "console.html")


@_page("/widget.js")
async def widget(request: Request) -> FileResponse:
    return _built(request, "widget.js", media_type="text/javascript; charset=utf-8")


@_page("/assets/{name:path}")
async def asset(name: str, request: Request) -> FileResponse:
    assets = (_dist(request) / "assets").resolve()
    if not assets.is_dir():
        raise HTTPException(status_code=503, detail=NOT_BUILT)
    path = (assets / name).resolve()
    if not path.is_relative_to(assets) or not path.is_file():
        raise HTTPException(status_code=404, detail="no such asset")
    return FileResponse(path, headers=_IMMUTABLE)


class PublicApiCors:
    """CORS for the public form and ticket endpoints only; every other path passes untouched."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app, allow_origins=origins, allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Idempotency-Key", "Authorization"],
            expose_headers=["Idempotent-Replayed"], max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _PUBLIC_API.match(scope["path"]):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the web app and answer CORS on the public endpoints the widget calls."""
    app.include_router(router)
    app.add_middleware(PublicApiCors, origins=settings.web.cors_origins)
