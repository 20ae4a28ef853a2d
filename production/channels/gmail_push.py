"""The Gmail webhook's caller, authenticated: the OIDC token Pub/Sub puts on each push.

google-auth is synchronous: the token check and the certificate download run in a worker
thread, so the event loop never waits on Google.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import time
from collections.abc import Mapping
from typing import Any

import google.auth.exceptions
from google.auth import jwt
from google.auth.transport.requests import Request as AuthRequest

from production.channels.gmail import GmailNotConfigured, GmailUnavailable, padded
from production.config import GmailSettings


class PushUnauthorized(Exception):
    """The push request does not carry a valid OIDC token from our subscription."""


class PushVerifier:
    """Verifies the OIDC token Pub/Sub puts on each push: signature (Google's certificates,
    cached by their Cache-Control max-age), audience, issuer, and the push service account."""

    # How soon an unknown key id may trigger another certificate download (key rotation),
    # so forged key ids cannot make us hammer the certificate endpoint.
    REFETCH_AFTER_S = 30.0
    DEFAULT_TTL_S = 3600.0
    CLOCK_SKEW_S = 10

    def __init__(self, gmail: GmailSettings) -> None:
        if not gmail.pubsub_audience or not gmail.pubsub_service_account:
            raise GmailNotConfigured(
                "GMAIL_PUBSUB_AUDIENCE and GMAIL_PUBSUB_SERVICE_ACCOUNT must be set")
        self._audience = gmail.pubsub_audience
        self._account = gmail.pubsub_service_account
        self._issuers = set(gmail.oidc_issuers)
        self._certs_url = gmail.oidc_certs_url
        self._timeout_s = gmail.timeout_s
        self._certs: dict[str, str] = {}
        self._expires_at = 0.0
        self._fetched_at = -self.REFETCH_AFTER_S
        self._lock = asyncio.Lock()
        self._transport = AuthRequest()

    async def verify(self, authorization: str | None) -> Mapping[str, Any]:
        """Return the token's claims, or raise PushUnauthorized saying why not."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise PushUnauthorized("missing bearer token")
        token = token.strip()
        certs = await self._certs_for(_key_id(token))
        try:
            claims: Mapping[str, Any] = await asyncio.to_thread(
                jwt.decode, token, certs=certs, audience=self._audience,
                clock_skew_in_seconds=self.CLOCK_SKEW_S)
        except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
            raise PushUnauthorized(f"invalid token: {exc}") from exc
        if claims.get("iss") not in self._issuers:
            raise PushUnauthorized("the token's issuer is not accepted")
        if claims.get("email") != self._account:
            raise PushUnauthorized("the token is not from the push service account")
        if claims.get("email_verified") is not True:
            raise PushUnauthorized("the token's email is not verified")
        return claims

    async def _certs_for(self, key_id: str | None) -> dict[str, str]:
        async with self._lock:
            now = time.monotonic()
            stale = now >= self._expires_at
            unknown = key_id is not None and key_id not in self._certs
            if stale or (unknown and now - self._fetched_at >= self.REFETCH_AFTER_S):
                self._certs, ttl = await asyncio.to_thread(self._download)
                self._fetched_at = now
                self._expires_at = now + ttl
            return self._certs

    def _download(self) -> tuple[dict[str, str], float]:
        try:
            response = self._transport(self._certs_url, method="GET", timeout=self._timeout_s)
        except google.auth.exceptions.TransportError as exc:
            raise GmailUnavailable(f"the OIDC certificates could not be fetched: {exc}") from exc
        if response.status != 200:
            raise GmailUnavailable(f"the OIDC certificates endpoint answered {response.status}")
        try:
            certs = json.loads(response.data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise GmailUnavailable("the OIDC certificates are not JSON") from exc
        if not isinstance(certs, dict) or not all(isinstance(v, str) for v in certs.values()):
            raise GmailUnavailable("the OIDC certificates are not a {key id: PEM} document "
                                   "(GMAIL_OIDC_CERTS_URL must be the oauth2/v1/certs form)")
        match = re.search(r"max-age=(\d+)", response.headers.get("cache-control", ""))
        ttl = float(match.group(1)) if match else self.DEFAULT_TTL_S
        return certs, min(max(ttl, 60.0), 86_400.0)


def _key_id(token: str) -> str | None:
    """Return the JWT header's kid without verifying anything (to pick the certificate)."""
    try:
        header = json.loads(base64.urlsafe_b64decode(padded(token.split(".")[0])))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None
