"""The API serves the built web app, says how to build it when it is missing, and answers CORS
on the public endpoints the widget calls but never on the admin API."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from production.api import web_app
from production.api.app import create_app
from production.config import Settings, WebSettings
from tests.conftest import ROOT

WIDGET_PAGE = "https://shop.example.com"


def _client(dist: Path, **web: object) -> httpx.AsyncClient:
    settings = Settings(app_env="test", web=WebSettings(dist_dir=dist, **web))
    # No lifespan: nothing here needs the database (a route that does answers 503).
    transport = httpx.ASGITransport(app=create_app(settings), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://fte.test")


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "support.html").write_text("<title>support</title>")
    (tmp_path / "console.html").write_text("<title>console</title>")
    (tmp_path / "widget.js").write_text("(function(){})();")
    (tmp_path / "assets" / "support-abc123.js").write_text("export {};")
    (tmp_path / "secret.txt").write_text("not an asset")
    return tmp_path


@pytest.mark.parametrize(("path", "title"), [
    ("/support", "support"), ("/support/", "support"), ("/support/tickets/TKT-1000", "support"),
    ("/console", "console"), ("/console/anything/else", "console"),
])
async def test_pages_are_served_and_revalidated(dist: Path, path: str, title: str) -> None:
    async with _client(dist) as http:
        page = await http.get(path)
        probe = await http.head(path)
    assert page.status_code == 200 and probe.status_code == 200
    assert page.text == f"<title>{title}</title>"
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"


async def test_widget_and_hashed_assets(dist: Path) -> None:
    async with _client(dist) as http:
        widget = await http.get("/widget.js")
        asset = await http.get("/assets/support-abc123.js")
        missing = await http.get("/assets/nope.js")
        outside = await http.get("/assets/%2e%2e/secret.txt")
    assert widget.status_code == 200
    assert widget.headers["content-type"] == "text/javascript; charset=utf-8"
    assert widget.headers["cache-control"] == "no-cache"
    assert asset.status_code == 200 and asset.text == "export {};"
    assert "immutable" in asset.headers["cache-control"]
    assert missing.status_code == 404
    assert outside.status_code == 404


@pytest.mark.parametrize("path", ["/support", "/console/x", "/widget.js", "/assets/a.js"])
async def test_without_a_build_the_answer_says_how_to_get_one(tmp_path: Path, path: str) -> None:
    async with _client(tmp_path / "never-built") as http:
        answer = await http.get(path)
    assert answer.status_code == 503
    assert answer.json() == {"detail": "the web app is not built: run make run"}


def test_the_default_build_folder_is_the_source_trees() -> None:
    assert ROOT / "web-form" / "dist" == web_app.SOURCE_DIST


async def test_the_widgets_preflight_allows_the_idempotency_key(dist: Path) -> None:
    async with _client(dist) as http:
        preflight = await http.options("/api/v1/support/form", headers={
            "Origin": WIDGET_PAGE, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,idempotency-key"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "idempotency-key" in allowed and "content-type" in allowed
    assert "POST" in preflight.headers["access-control-allow-methods"]


@pytest.mark.parametrize(("path", "method"), [("/api/v1/tickets/TKT-1000", "GET"),
                                            ("/api/v1/tickets/lookup", "POST")])
async def test_the_widgets_preflight_allows_the_ticket_token(dist: Path, path: str,
                                                              method: str) -> None:
    async with _client(dist) as http:
        preflight = await http.options(path, headers={
            "Origin": WIDGET_PAGE, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 200
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


async def test_public_answers_carry_cors_even_when_they_fail(dist: Path) -> None:
    async with _client(dist) as http:
        ticket = await http.get("/api/v1/tickets/TKT-1000", headers={"Origin": WIDGET_PAGE})
    assert ticket.status_code == 503  # no database here: the widget can still read why
    assert ticket.headers["access-control-allow-origin"] == "*"
    assert "idempotent-replayed" in ticket.headers["access-control-expose-headers"].lower()


async def test_listed_origins_only(dist: Path) -> None:
    async with _client(dist, cors_origins=[WIDGET_PAGE]) as http:
        listed = await http.options("/api/v1/support/form", headers={
            "Origin": WIDGET_PAGE, "Access-Control-Request-Method": "POST"})
        other = await http.options("/api/v1/support/form", headers={
            "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"})
    assert listed.headers["access-control-allow-origin"] == WIDGET_PAGE
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("path", ["/api/v1/admin/autonomy", "/api/v1/admin/proposals",
                                  "/api/v1/health"])
async def test_no_cors_outside_the_public_endpoints(dist: Path, path: str) -> None:
    async with _client(dist) as http:
        preflight = await http.options(path, headers={
            "Origin": WIDGET_PAGE, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        direct = await http.get(path, headers={"Origin": WIDGET_PAGE})
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in direct.headers
