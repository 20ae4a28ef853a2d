"""Ticket access tokens: what opens one ticket's conversation to its customer, and nothing else.

A token is derived, never drawn and stored: HMAC-SHA256(secret, tenant | ticket | nonce), where
the nonce is random per ticket and kept with it. The same ticket therefore always yields the
same token (a replayed form submit, a redelivered reply's link), while the database keeps only
the nonce and the token's SHA-256: without the secret neither gives the token back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from production.domain.identity import normalize_email

PREFIX = "tkt_"
NONCE_BYTES = 16
TOKEN_LENGTH = len(PREFIX) + 43  # 32 bytes, base64url without padding
# What a missing ticket's hash is compared against, so that an unknown ticket costs the same
# work as a wrong token.
_NO_HASH = hashlib.sha256(b"no such ticket").digest()


_TOKEN = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
REDACTED = PREFIX + "[redacted]"


def redact_tokens(text: str) -> str:
    """Return the text with every access token in it replaced: a customer who pastes their
    status link into a message must not put its token in the database."""
    return _TOKEN.sub(REDACTED, text)


def new_nonce() -> bytes:
    """Return a fresh random nonce for a ticket's token."""
    return secrets.token_bytes(NONCE_BYTES)


def token_hash(token: str) -> bytes:
    """Return the stored form of a token: its SHA-256 (256 random bits need no slow hash)."""
    return hashlib.sha256(token.encode()).digest()


def matches(presented: str | None, stored_hash: bytes | None) -> bool:
    """Return True when the presented token is the one whose hash is stored.

    Does the same work whether or not there is a hash or a token, in constant time.
    """
    expected = stored_hash if stored_hash is not None else _NO_HASH
    same = hmac.compare_digest(token_hash(presented or ""), expected)
    return same and stored_hash is not None and bool(presented)


def same_email(presented: str, known: Iterable[str]) -> bool:
    """Return True when the presented email, normalized, is one of the known (normalized) ones.

    Every comparison is constant-time and all of them are made, so the answer's timing does not
    tell how much of an address was right.
    """
    given = (normalize_email(presented) or "").encode()
    found = hmac.compare_digest(given, b"\x00")  # the same work when nothing is known
    for email in known:
        found |= hmac.compare_digest(given, email.encode())
    return found and bool(given)


@dataclass(frozen=True)
class TicketLinks:
    """The secret tokens are derived from, and where a ticket's status page is served."""

    secret: bytes
    base_url: str

    def token(self, tenant_id: str, ticket_number: str, nonce: bytes) -> str:
        """Return the ticket's access token for this nonce."""
        message = b"|".join((tenant_id.encode(), ticket_number.encode(), nonce))
        digest = hmac.new(self.secret, message, hashlib.sha256).digest()
        return PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def status_url(self, ticket_number: str, token: str) -> str:
        """Return the status page's address with the token in its fragment.

        A fragment never leaves the browser: it is in no request line, access log, proxy or
        Referer header. The page reads it and sends it as `Authorization: Bearer`.
        """
        return f"{self.base_url.rstrip('/')}/support/tickets/{quote(ticket_number)}#token={token}"
