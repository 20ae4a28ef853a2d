"""Admin API keys without I/O: their shape, what is stored, and who may do what."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from production.services.admin_keys import ApiPrincipal, generate, hash_key, well_formed


def test_a_key_has_the_documented_shape_and_only_its_hash_is_kept() -> None:
    key = generate()
    assert well_formed(key.plaintext)
    _, prefix, secret = key.plaintext.split("_", 2)
    assert prefix == key.prefix and len(prefix) == 8
    assert len(secret) == 43  # secrets.token_urlsafe(32)
    assert key.key_hash == hashlib.sha256(key.plaintext.encode()).hexdigest()
    assert key.key_hash != key.plaintext and secret not in key.key_hash
    assert len(key.key_hash) == 64


def test_keys_are_random() -> None:
    keys = {generate().plaintext for _ in range(200)}
    assert len(keys) == 200
    assert len({k.split("_", 2)[1] for k in keys}) > 190  # prefixes tell keys apart


def test_hash_is_deterministic_and_differs_per_key() -> None:
    key = generate().plaintext
    assert hash_key(key) == hash_key(key)
    assert hash_key(key) != hash_key(key[:-1] + ("A" if key[-1] != "A" else "B"))


@pytest.mark.parametrize("presented", [
    "",
    "fte_",
    "fte_0123abcd_",
    "fte_0123abc_" + "a" * 43,  # prefix too short
    "fte_0123ABCD_" + "a" * 43,  # prefix not lower-case hex
    "fte_0123abcd_" + "a" * 42,
    "fte_0123abcd_" + "a" * 44,
    "abc_0123abcd_" + "a" * 43,
    "fte_0123abcd_" + "a" * 42 + "=",
    "fte_0123abcd_" + "a" * 42 + "\n",
    "fte_0123abcd_" + "a" * 43 + "\n",  # `$` would accept a trailing newline
    " fte_0123abcd_" + "a" * 43,
    "Bearer fte_0123abcd_" + "a" * 43,
    "fte_0123abcd_" + "ä" * 43,
])
def test_malformed_keys_are_refused_before_any_lookup(presented: str) -> None:
    assert not well_formed(presented)


def test_roles_rank_operator_below_admin() -> None:
    operator = ApiPrincipal(tenant_id="t", role="operator", key_id=uuid.uuid4(), name="ops")
    admin = ApiPrincipal(tenant_id="t", role="admin", key_id=uuid.uuid4(), name="boss")
    assert operator.may("operator") and not operator.may("admin")
    assert admin.may("operator") and admin.may("admin")
    assert operator.actor == "operator:ops" and admin.actor == "operator:boss"
