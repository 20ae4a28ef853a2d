"""The console link's token is taken only from a loopback connection (the connection's own
address: a forwarded header changes nothing)."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from production.api.local_sign_in import _loopback


def request_from(host: str | None, headers: list[tuple[bytes, bytes]] | None = None) -> Request:
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers or [],
                    "client": (host, 5000) if host else None})


@pytest.mark.parametrize(("host", "accepted"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("10.0.0.7", False),
    ("192.168.1.2", False), ("::ffff:10.0.0.7", False), ("testclient", False), (None, False)])
def test_only_a_loopback_peer_may_redeem(host: str | None, accepted: bool) -> None:
    assert _loopback(request_from(host)) is accepted


def test_a_forwarded_loopback_address_is_not_believed() -> None:
    forwarded = [(b"x-forwarded-for", b"127.0.0.1"), (b"x-real-ip", b"127.0.0.1")]
    assert _loopback(request_from("203.0.113.9", forwarded)) is False
