"""Per-tenant admin API keys: created once in plain text, stored only as a SHA-256 hash.

A key reads `fte_<prefix>_<secret>`: the prefix (8 hex characters, stored) lets an operator tell
keys apart; the secret is `secrets.token_urlsafe(32)`. The keys carry 256 random bits, so a fast
hash is enough — there is nothing to brute-force that a slow hash would protect.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal, get_args
from uuid import UUID

import structlog

from production.database.pool import Pool
from production.database.queries import admin as queries

log = structlog.get_logger(__name__)

Role = Literal["operator", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
_RANK: dict[str, int] = {"operator": 1, "admin": 2}
_KEY = re.compile(r"fte_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")
MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class ApiPrincipal:
    """Who is calling the admin API: a tenant's key and the role it was given."""

    tenant_id: str
    role: Role
    key_id: UUID
    name: str

    @property
    def actor(self) -> str:
        """Return the name audit rows and decisions record for this key."""
        return f"operator:{self.name}"

    def may(self, role: Role) -> bool:
        """Return True when this key's role is `role` or above it."""
        return _RANK[self.role] >= _RANK[role]


@dataclass(frozen=True)
class NewKey:
    plaintext: str
    prefix: str
    key_hash: str


def hash_key(presented: str) -> str:
    """Return the stored form of a key: the SHA-256 hex digest of its text."""
    return hashlib.sha256(presented.encode()).hexdigest()


def well_formed(presented: str) -> bool:
    """Return True when the text has the shape of a key (checked before any database work)."""
    return _KEY.fullmatch(presented) is not None


def generate() -> NewKey:
    """Return a fresh random key with its prefix and hash."""
    prefix = secrets.token_hex(4)
    plaintext = f"fte_{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(plaintext=plaintext, prefix=prefix, key_hash=hash_key(plaintext))


async def create_key(*, pool: Pool, tenant_id: str, role: str, name: str) -> tuple[UUID, str]:
    """Create a key for a tenant; return its id and its plain text (shown this once only).

    Raises ValueError for an unknown role or tenant or a blank or overlong name.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"name must be 1 to {MAX_NAME_LENGTH} characters")
    key = generate()
    async with pool.acquire() as conn, conn.transaction():
        if not await queries.tenant_exists(conn, tenant_id):
            raise ValueError(f"no tenant {tenant_id!r}")
        key_id = await queries.insert_key(conn, tenant_id, name=name, role=role,
                                          prefix=key.prefix, key_hash=key.key_hash)
    log.info("admin_key_created", tenant_id=tenant_id, key_id=str(key_id), role=role,
             prefix=key.prefix)
    return key_id, key.plaintext


async def revoke_key(*, pool: Pool, key_id: UUID, tenant_id: str | None = None) -> bool:
    """Revoke a key (of the tenant, when given); False when no active key has that id."""
    async with pool.acquire() as conn:
        revoked = await queries.revoke_key(conn, key_id, tenant_id)
    log.info("admin_key_revoked", key_id=str(key_id), revoked=revoked)
    return revoked


async def authenticate(*, pool: Pool, presented: str) -> ApiPrincipal | None:
    """Return who a presented key belongs to, or None (unknown, revoked or malformed)."""
    if not well_formed(presented):
        return None
    digest = hash_key(presented)
    async with pool.acquire() as conn:
        row = await queries.active_key_by_hash(conn, digest)
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return ApiPrincipal(tenant_id=row.tenant_id, role=row.role, key_id=row.id, name=row.name)
