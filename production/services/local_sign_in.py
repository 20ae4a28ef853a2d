"""`fte up`'s one-click console sign-in (Jupyter-style): the banner's console link carries a
one-time token that signs the local operator in, instead of a key made by hand.

The token is 256 random bits; only its SHA-256 is stored. It works once, before it expires,
and the API takes it only from a loopback connection outside production. Redeeming it creates
an admin key of the tenant for the browser tab that redeemed it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import structlog

from production.database.pool import Pool
from production.database.queries import ops_alerts
from production.services import admin_keys

log = structlog.get_logger(__name__)

KEY_NAME = "local console (fte up)"
ROLE = "admin"


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def issue(*, pool: Pool, tenant_id: str, now: datetime, ttl: timedelta) -> str:
    """Return a fresh one-time sign-in token for the tenant, valid from `now` for `ttl`."""
    token = secrets.token_urlsafe(32)
    async with pool.acquire() as conn:
        await ops_alerts.store_sign_in_token(conn, tenant_id, token_hash=_hash(token), now=now,
                                             expires_at=now + ttl)
    return token


async def redeem(*, pool: Pool, token: str, now: datetime) -> tuple[str, str] | None:
    """Spend the token at `now`; return (tenant, a new admin key), or None when the token is
    unknown, spent or expired."""
    if not 20 <= len(token) <= 100:
        return None
    async with pool.acquire() as conn:
        tenant_id = await ops_alerts.use_sign_in_token(conn, token_hash=_hash(token), now=now)
    if tenant_id is None:
        log.warning("local_sign_in_refused")
        return None
    _, key = await admin_keys.create_key(pool=pool, tenant_id=tenant_id, role=ROLE,
                                         name=KEY_NAME)
    log.info("local_sign_in", tenant_id=tenant_id)
    return tenant_id, key
