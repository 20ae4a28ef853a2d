"""Ticket access tokens, the failed-lookup limit and the client address: pure rules, no I/O."""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from production.database.queries.deliveries import SandboxedDelivery
from production.domain import ticket_access
from production.domain.client_address import client_address, parse_networks
from production.domain.formatting import carries_status_link, with_status_link
from production.domain.messages import InboundMessage
from production.domain.rate_limit import WindowLimiter
from production.domain.ticket_access import TicketLinks
from production.services.ticket_access import as_sent

LINKS = TicketLinks(secret=b"k" * 32, base_url="https://help.example/")
NONCE = bytes(range(16))


def test_a_token_is_derived_the_same_way_every_time_and_differs_per_ticket() -> None:
    token = LINKS.token("techcorp", "TKT-1000", NONCE)
    assert token == LINKS.token("techcorp", "TKT-1000", NONCE)
    assert token.startswith("tkt_") and len(token) == 4 + 43  # 256 bits, base64url
    others = {
        LINKS.token("acme", "TKT-1000", NONCE),
        LINKS.token("techcorp", "TKT-1001", NONCE),
        LINKS.token("techcorp", "TKT-1000", bytes(16)),
        TicketLinks(secret=b"x" * 32, base_url="").token("techcorp", "TKT-1000", NONCE),
    }
    assert token not in others and len(others) == 4


def test_nonces_are_random() -> None:
    assert len({ticket_access.new_nonce() for _ in range(100)}) == 100
    assert len(ticket_access.new_nonce()) == ticket_access.NONCE_BYTES


def test_only_the_token_whose_hash_is_stored_matches() -> None:
    token = LINKS.token("techcorp", "TKT-1000", NONCE)
    stored = ticket_access.token_hash(token)
    assert stored == hashlib.sha256(token.encode()).digest()
    assert ticket_access.matches(token, stored)
    assert not ticket_access.matches(token + "x", stored)
    assert not ticket_access.matches(None, stored)
    assert not ticket_access.matches("", stored)
    assert not ticket_access.matches(token, None)  # a ticket whose token was never issued
    assert not ticket_access.matches("", None)


def test_the_email_is_compared_normalized() -> None:
    known = ["ada@example.com", "ada.l@work.example"]
    assert ticket_access.same_email("  ADA@Example.COM ", known)
    assert ticket_access.same_email("Ada <ada.l@work.example>", known)
    assert not ticket_access.same_email("ada@example.org", known)
    assert not ticket_access.same_email("not an email", known)
    assert not ticket_access.same_email("", [""])
    assert not ticket_access.same_email("ada@example.com", [])


def test_the_status_link_carries_the_token_in_its_fragment() -> None:
    url = LINKS.status_url("TKT-1000", "tkt_abc")
    assert url == "https://help.example/support/tickets/TKT-1000#token=tkt_abc"


@pytest.mark.parametrize(("channel", "linked"), [("email", True), ("whatsapp", True),
                                                 ("web_form", False)])
def test_email_and_whatsapp_replies_end_with_the_link(channel: str, linked: bool) -> None:
    text = with_status_link("Dear Ada,\n\nHere you go.", channel, "https://h/x")
    assert carries_status_link(channel) is linked
    if linked:
        assert text.startswith("Dear Ada,\n\nHere you go.\n\n")
        assert text.endswith("https://h/x")
    else:
        assert text == "Dear Ada,\n\nHere you go."


def test_failures_over_the_limit_wait_out_their_window() -> None:
    limiter = WindowLimiter(limit=3, window_s=60)
    for second in (0, 1, 2):
        assert limiter.retry_after("a", second) is None
        limiter.count("a", second)
    assert limiter.retry_after("a", 10) == 50
    assert limiter.retry_after("b", 10) is None  # per client
    assert limiter.retry_after("a", 60) is None  # the window is over: a fresh start
    limiter.count("a", 61)
    assert limiter.retry_after("a", 62) is None


def test_the_limiter_forgets_finished_windows_first_then_the_oldest() -> None:
    limiter = WindowLimiter(limit=1, window_s=10, max_keys=2)
    limiter.count("old", 0)
    limiter.count("recent", 5)
    limiter.count("new", 12)  # "old" has finished its window: it goes
    assert limiter.retry_after("recent", 12) == 3
    assert limiter.retry_after("new", 12) == 10
    limiter.count("newest", 13)  # nothing finished: the oldest remembered goes
    assert limiter.retry_after("recent", 13) is None
    assert limiter.retry_after("newest", 13) == 10


def test_take_counts_each_request_until_the_limit_and_not_the_refused_ones() -> None:
    limiter = WindowLimiter(limit=2, window_s=30)
    assert limiter.take("a", 0) is None
    assert limiter.take("a", 5) is None
    assert limiter.take("a", 10) == 20  # the third in the window: wait until it ends
    assert limiter.take("a", 29) == 1  # refused ones did not extend or restart it
    assert limiter.take("b", 29) is None  # per key
    assert limiter.take("a", 30) is None  # a fresh window


PROXIES = parse_networks(["10.0.0.0/8", "192.0.2.7"])


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("203.0.113.9", None, "203.0.113.9"),
    ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not a proxy: its header is not believed
    ("10.1.2.3", "198.51.100.1", "198.51.100.1"),
    ("10.1.2.3", "6.6.6.6, 198.51.100.1, 192.0.2.7", "198.51.100.1"),  # spoofed head ignored
    ("10.1.2.3", "10.0.0.5, 10.0.0.6", "10.0.0.5"),  # only proxies: the farthest one
    ("10.1.2.3", "", "10.1.2.3"),
    ("10.1.2.3", "garbage", "garbage"),
    (None, None, "unknown"),
])
def test_the_client_address(peer: str | None, forwarded: str | None, client: str) -> None:
    assert client_address(peer, forwarded, PROXIES) == client


def test_no_proxy_is_trusted_by_default() -> None:
    assert client_address("127.0.0.1", "198.51.100.1", []) == "127.0.0.1"


def test_a_proxy_that_is_no_address_is_refused() -> None:
    assert parse_networks(["::1", "2001:db8::/32"])[1] == ipaddress.ip_network("2001:db8::/32")
    with pytest.raises(ValueError, match="'ingress' is not an IP address"):
        parse_networks(["ingress"])


def test_the_sandbox_shows_a_reply_as_it_was_sent() -> None:
    recorded = SandboxedDelivery(
        message_id=uuid4(), channel="whatsapp", recipient="+15550100", subject=None,
        body="Hi Ada!\n\nDone.", created_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        ticket_number="TKT-9", access_nonce=NONCE)
    token = LINKS.token("techcorp", "TKT-9", NONCE)
    assert as_sent(LINKS, "techcorp", recorded) == (
        f"Hi Ada!\n\nDone.\n\nYour ticket, online: "
        f"https://help.example/support/tickets/TKT-9#token={token}")
    for missing in (replace(recorded, ticket_number=None), replace(recorded, access_nonce=None)):
        assert as_sent(LINKS, "techcorp", missing) == "Hi Ada!\n\nDone."


def test_a_pasted_token_never_reaches_the_database() -> None:
    token = LINKS.token("techcorp", "TKT-1000", NONCE)
    pasted = f"Still broken, see {LINKS.status_url('TKT-1000', token)} please"
    assert ticket_access.redact_tokens(pasted) == (
        "Still broken, see https://help.example/support/tickets/TKT-1000#token=tkt_[redacted]"
        " please")
    assert ticket_access.redact_tokens("tkt_short and tkt_" + "a" * 44) == \
        "tkt_short and tkt_" + "a" * 44  # not a token's shape: left alone
    message = InboundMessage(tenant_id="techcorp", channel="whatsapp", external_id="SM1",
                             content=pasted, sender_phone="+14155550100")
    assert token not in message.content
